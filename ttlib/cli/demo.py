"""`python -m ttlib demo`: the whistle-to-trumpet web app (`ttlib.course.demo`), served by Voilà on this machine.

Writes the app's one-cell notebook into a temporary folder, starts Voilà on it at
http://127.0.0.1:PORT/ (printed), and runs until Ctrl-C (or SIGTERM), which stop Voilà and its
kernels too. The models offered are those given with --model and those under
data/generated/models/ (`make run` trains one there).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from ttlib.models.shipped import model_folder


def add_parser(commands) -> None:
    p = commands.add_parser("demo", help="the whistle-to-trumpet web app (Voila), for a class on a projector")
    p.add_argument("--model", action="append", default=[], type=model_folder,
                   help="a trained model folder, or the name of a model shipped in data/models/, to offer first "
                        "(repeat for more); the models of data/generated/models/ and data/models/ follow")
    p.add_argument("--port", type=int, default=8866, help="the local port to serve on (default 8866)")
    p.set_defaults(run=run, interrupted="The demo stopped.")


def free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port`."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(args: argparse.Namespace) -> int:
    from ttlib.core.errors import ConfigError
    from ttlib.course.demo import MODELS_ENV, TEMPLATE, app_notebook, find_models
    from ttlib.models.checkpoint import check_model_folder

    for folder in args.model:
        check_model_folder(folder)                         # a wrong --model is named, one line
    if not 0 < args.port < 65536 or not free(args.port):
        raise ConfigError(f"Port {args.port} is in use (or not a port): choose another with --port, e.g. --port 8867.")
    models = find_models(args.model)
    notebook = app_notebook(tempfile.mkdtemp(prefix="ttlib-demo-"))
    data_path = os.pathsep.join(p for p in (str(notebook.parent / "jupyter"), os.environ.get("JUPYTER_PATH")) if p)
    env = dict(os.environ, JUPYTER_PATH=data_path,
               **{MODELS_ENV: json.dumps([str(Path(m).resolve()) for m in args.model])})
    print(f"The whistle-to-trumpet demo, with {len(models)} model(s): {', '.join(models) or 'none yet (make run)'}")
    print(f"Open http://127.0.0.1:{args.port}/ in a browser (starting takes a few seconds; Ctrl-C stops it).",
          flush=True)
    command = [sys.executable, "-m", "voila", str(notebook), f"--port={args.port}", "--no-browser",
               "--Voila.ip=127.0.0.1", f"--template={TEMPLATE}"]
    server = subprocess.Popen(command, env=env)
    # stopped by SIGTERM (a service manager, a test) or Ctrl-C: Voilà is stopped too and shuts its kernels down
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=60)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
