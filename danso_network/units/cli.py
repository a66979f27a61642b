from flask.cli import AppGroup

units_cli = AppGroup("units", help="Đơn vị hành chính.")
