"""Runs a job script with the bb package importable: python3 -I <runtime>/bootstrap.py <script> [args...]

-I ignores PYTHONPATH and (since 3.11) does not put the script's folder on sys.path, so the runtime
folder that holds bb is added here, explicitly, and so is the site-packages folder of the venv of
approved packages when the runner bound one (BOXBOT_VENV, read-only). The script then runs as __main__.
"""

import os
import runpy
import sys


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python3 -I bootstrap.py SCRIPT [ARGS...]\n")
        sys.exit(2)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    venv = os.environ.get("BOXBOT_VENV")
    if venv:
        import site

        version = "python%d.%d" % sys.version_info[:2]
        site.addsitedir(os.path.join(venv, "lib", version, "site-packages"))
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
