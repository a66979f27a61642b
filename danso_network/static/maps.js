/* Coverage maps (issue #10): draws the layer's GeoJSON into the map folium built.

   folium writes the Leaflet map, its feature groups and the layer control; this script finds them
   by the names on #coverage-map, fetches the layer from our endpoint (or reads it from the page
   in an exported file) and draws it with the canvas renderer:
     kind "hamlet" / "commune"  the choropleth, filled by properties.status (colours from data-colours)
     kind "boundary"            commune outlines, above the choropleth
     kind "station"             commune health stations
   Every label comes from the page (data-labels), translated by the server; names are set as text,
   never as HTML. When done, #coverage-map carries data-drawn (features drawn per status) and
   data-state="ready" (or "error"), which the browser tests read. */
(function () {
  'use strict';

  var box = document.getElementById('coverage-map');
  if (!box || !window.L) return;

  function json(name, fallback) {
    try { return JSON.parse(box.getAttribute('data-' + name)); } catch (e) { return fallback; }
  }

  var map = window[box.dataset.map];
  var groups = json('groups', {});
  var colours = json('colours', {});
  var labels = json('labels', {});
  var lang = document.documentElement.lang || 'vi';
  var number = new Intl.NumberFormat(lang);
  var decimal = new Intl.NumberFormat(lang, {maximumFractionDigits: 1});
  var focus = parseInt(box.dataset.focus || '', 10);
  var status = box.querySelector('.map-status');
  if (!map) return;

  map.attributionControl.setPrefix('Leaflet');
  if (box.dataset.attribution) map.attributionControl.addAttribution(box.dataset.attribution);

  /* The legend beside the map becomes a control on it (it stays beside the map without scripts). */
  var legend = document.getElementById('map-legend');
  if (legend) {
    var control = L.control({position: 'bottomright'});
    control.onAdd = function () {
      var holder = L.DomUtil.create('div', 'leaflet-control map-legend-control');
      holder.appendChild(legend.cloneNode(true)).removeAttribute('id');
      L.DomEvent.disableClickPropagation(holder);
      return holder;
    };
    control.addTo(map);
  }

  var pane = map.createPane('boundaries');
  pane.style.zIndex = 450;
  pane.style.pointerEvents = 'none';
  var outlines = L.canvas({pane: 'boundaries'});

  function say(text, state) {
    if (status) {
      status.textContent = text || '';
      status.hidden = !text;
    }
    if (state) box.dataset.state = state;
  }

  function line(parent, text, strong) {
    var el = document.createElement(strong ? 'strong' : 'div');
    el.textContent = text;
    parent.appendChild(el);
    return el;
  }

  function tooltip(p) {
    var el = document.createElement('div');
    el.className = 'map-tooltip';
    line(el, p.name, true);
    if (p.synthetic) {
      var badge = document.createElement('span');
      badge.className = 'badge-synthetic map-badge';
      badge.textContent = labels.synthetic;
      el.appendChild(document.createTextNode(' '));
      el.appendChild(badge);
    }
    if (p.kind === 'hamlet') {
      line(el, (labels.status || {})[p.status] || p.status);
      line(el, labels.households + ': ' + (p.households == null ? '—' : number.format(p.households)));
      line(el, labels.active + ': ' + number.format(p.active));
      line(el, labels.quota + ': ' + (p.quota == null ? labels.unknown_quota : number.format(p.quota)));
      if (box.dataset.click) line(el, labels.open_unit).className = 'map-hint';
    } else if (p.kind === 'commune') {
      line(el, labels.pct + ': ' + (p.pct == null ? '—' : decimal.format(p.pct) + ' %') +
        ' (' + number.format(p.covered) + '/' + number.format(p.hamlets) + ')');
      line(el, labels.households + ': ' + number.format(p.households));
      line(el, labels.active + ': ' + number.format(p.active));
      line(el, labels.vacancies + ': ' + number.format(p.vacancies));
      if (box.dataset.click) line(el, labels.open_map).className = 'map-hint';
    } else {
      line(el, labels.station);
    }
    return el;
  }

  function target(id) {
    return box.dataset.click ? box.dataset.click.replace('123456789', String(id)) : null;
  }

  function draw(collection) {
    var byKind = {area: [], boundary: [], station: []};
    (collection.features || []).forEach(function (f) {
      var kind = f.properties.kind;
      byKind[kind === 'boundary' || kind === 'station' ? kind : 'area'].push(f);
    });
    var drawn = {};
    var focused = null;
    var area = L.geoJSON(byKind.area, {
      style: function (f) {
        return {color: '#ffffff', weight: 1, fillColor: colours[f.properties.status] || '#999999', fillOpacity: 0.8};
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        drawn[p.status] = (drawn[p.status] || 0) + 1;
        layer.bindTooltip(function () { return tooltip(p); }, {sticky: true});
        layer.on('mouseover', function () { layer.setStyle({weight: 3, color: '#222222'}); });
        layer.on('mouseout', function () { if (layer !== focused) area.resetStyle(layer); });
        var href = target(p.id);
        if (href) layer.on('click', function () { window.location.assign(href); });
        if (p.id === focus) focused = layer;
      }
    });
    area.addTo(window[groups.area] || map);
    if (byKind.boundary.length && groups.boundary) {
      L.geoJSON(byKind.boundary, {
        renderer: outlines, interactive: false,
        style: function () { return {color: '#222222', weight: 2, fill: false}; }
      }).addTo(window[groups.boundary]);
    }
    if (byKind.station.length && groups.station) {
      L.geoJSON(byKind.station, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 4, color: '#222222', weight: 1.5, fillColor: '#ffffff', fillOpacity: 1});
        },
        onEachFeature: function (f, layer) { layer.bindTooltip(function () { return tooltip(f.properties); }); }
      }).addTo(window[groups.station]);
    }
    if (focused) {
      focused.setStyle({weight: 4, color: '#000000'});
      map.fitBounds(focused.getBounds(), {maxZoom: 15, padding: [40, 40]});
      focused.openTooltip(focused.getBounds().getCenter());
    }
    box.dataset.drawn = JSON.stringify(drawn);
    say('', 'ready');
  }

  var inline = box.dataset.layerInline && document.getElementById(box.dataset.layerInline);
  if (inline) {
    draw(JSON.parse(inline.textContent));
    return;
  }
  say(labels.loading, 'loading');
  fetch(box.dataset.layerUrl, {credentials: 'same-origin', headers: {Accept: 'application/geo+json'}})
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body && body.error ? body.error : labels.error);
        return body;
      });
    })
    .then(draw)
    .catch(function (error) { say(error && error.message ? error.message : labels.error, 'error'); });
})();
