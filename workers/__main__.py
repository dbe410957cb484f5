from workers.cli import app

app()
