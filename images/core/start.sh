#!/bin/bash
# Start command of the images (run under tini). Under JupyterHub (JUPYTERHUB_API_TOKEN set by the spawner)
# it runs the single-user server, which reads the hub's URL, prefix and port from the environment; alone it
# runs JupyterLab on 0.0.0.0:8888 (a random token unless JUPYTER_TOKEN is set). Extra arguments are passed on.
set -euo pipefail
cd "${HOME}"
if [ -n "${JUPYTERHUB_API_TOKEN:-}" ]; then
  exec jupyterhub-singleuser "$@"
fi
exec jupyter lab --ServerApp.ip=0.0.0.0 --ServerApp.port="${PORT:-8888}" --no-browser "$@"
