"""Runs a job script with the bb package importable: python3 -I <runtime>/bootstrap.py [--wait] <script> [args...]

-I ignores PYTHONPATH and (since 3.11) does not put the script's folder on sys.path. Here sys.path
becomes the standard library, the runtime folder that holds bb, and the site-packages folder of the
venv of approved packages when the runner bound one (BOXBOT_VENV, read-only): the host's own
site-/dist-packages (Debian's python3-* packages) are dropped, so a job imports only what was
approved. The script then runs as __main__ (compiled and executed here; runpy would import pkgutil
and typing on every job).

--wait: a warm job. Everything above is done ahead, already confined, before the job exists; then the
bootstrap blocks reading stdin until the runner writes the go message (JSON: the job's secrets as
environment additions, its address-space limit, whether it has an SDK channel) and closes it.
"""

import builtins
import os
import site
import sys


def _wait_for_go():
    import json
    import resource

    chunks = []
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    if not chunks:
        sys.exit(0)  # the runner let this warm job go without a job
    go = json.loads(b"".join(chunks))
    limit = int(go["address_space_bytes"])
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.update(go["env"])
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if not go["sdk"]:
        fd = os.environ.pop("BOXBOT_SDK_FD", None)
        if fd is not None:
            os.close(int(fd))


def main():
    wait = len(sys.argv) > 1 and sys.argv[1] == "--wait"
    if wait:
        del sys.argv[1]
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python3 -I bootstrap.py [--wait] SCRIPT [ARGS...]\n")
        sys.exit(2)
    sys.path[:] = [p for p in sys.path if not p.endswith(("site-packages", "dist-packages"))]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    venv = os.environ.get("BOXBOT_VENV")
    if venv:
        version = "python%d.%d" % sys.version_info[:2]
        site.addsitedir(os.path.join(venv, "lib", version, "site-packages"))
    if wait:
        _wait_for_go()
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec", dont_inherit=True)
    module = type(sys)("__main__")
    module.__file__ = script
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    except SystemExit as e:
        status = _exit_status(e.code)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        status = 1
    else:
        status = 0
    _quick_exit(status)


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    sys.stderr.write(str(code) + "\n")
    return 1


def _quick_exit(status):
    """What interpreter shutdown does that a job can observe (wait for its threads, run atexit
    functions, flush stdio), without tearing down every module, which costs milliseconds per job:
    the process and its whole namespace end right after."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(status)


if __name__ == "__main__":
    main()
