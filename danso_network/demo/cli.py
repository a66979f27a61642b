from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Dữ liệu minh hoạ.")
