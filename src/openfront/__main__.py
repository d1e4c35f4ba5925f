"""`python -m openfront` runs the CLI (the supervisor starts children this way)."""

from openfront.cli.main import main

if __name__ == "__main__":
    main(prog_name="openfront")
