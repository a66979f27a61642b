/* The app's own behaviour, bound by data attributes: the Content-Security-Policy allows no inline
   script or event handler (issue #9 item 8). Loaded with `defer` from base.html.

   data-print                  button: prints the page
   data-confirm="message"      form: asks before it is sent; button or link: asks before it acts
   data-select-all="name"      checkbox: ticks or unticks every input[name=name]
   data-check-all="group"      button: ticks every input[data-group=group]
   data-autosubmit             select: sends its form when changed
   script[data-quota-presets]  JSON of the criteria form's quota presets (value: the select's id;
                               data-bands: the id of the bands table) */
(function () {
  'use strict';

  function inputs(selector) {
    return document.querySelectorAll(selector);
  }

  document.addEventListener('click', function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var asking = target.closest('button[data-confirm], input[data-confirm], a[data-confirm]');
    if (asking && !window.confirm(asking.getAttribute('data-confirm'))) {
      event.preventDefault();
      return;
    }
    if (target.closest('[data-print]')) {
      window.print();
      return;
    }
    var all = target.closest('input[type=checkbox][data-select-all]');
    if (all) {
      inputs('input[name="' + CSS.escape(all.dataset.selectAll) + '"]').forEach(function (box) {
        box.checked = all.checked;
      });
      return;
    }
    var checkAll = target.closest('[data-check-all]');
    if (checkAll) {
      inputs('input[data-group="' + CSS.escape(checkAll.dataset.checkAll) + '"]').forEach(function (box) {
        box.checked = true;
      });
    }
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute('data-confirm')
        && !window.confirm(form.getAttribute('data-confirm'))) {
      event.preventDefault();
    }
  });

  document.addEventListener('change', function (event) {
    var select = event.target;
    if (select instanceof HTMLSelectElement && select.hasAttribute('data-autosubmit') && select.form) {
      select.form.submit();
    }
  });

  /* The criteria form: a province's preset fills the quota bands and locks them; "custom" unlocks them. */
  function quotaPresets(data) {
    var presets = JSON.parse(data.textContent);
    var select = document.getElementById(data.dataset.quotaPresets);
    var rows = document.querySelectorAll('#' + CSS.escape(data.dataset.bands) + ' tbody tr');
    if (!select) return;
    function sync(fill) {
      var bands = presets[select.value];
      rows.forEach(function (tr, i) {
        var fields = tr.querySelectorAll('input');
        fields.forEach(function (input) { input.readOnly = !!bands; });
        if (bands && fill) {
          var band = bands[i];
          fields[0].value = band && band[0] !== null ? band[0] : '';
          fields[1].value = band ? band[1] : '';
        }
      });
    }
    select.addEventListener('change', function () { sync(true); });
    sync(false);
  }

  document.querySelectorAll('script[type="application/json"][data-quota-presets]').forEach(quotaPresets);
})();
