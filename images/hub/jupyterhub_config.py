# JupyterHub configuration that gives each user a server from the AI4GEO image (see images/hub/README.md).
#
#   jupyterhub -f images/hub/jupyterhub_config.py
#
# Chosen by environment variables (a site adds its own settings after this file or in a second -f file):
#   AI4GEO_HUB_SPAWNER        docker (default, dockerspawner) | kubernetes (kubespawner) | local
#                             (SimpleLocalProcessSpawner: all users run as the hub.s Unix user: tests, demos)
#   AI4GEO_HUB_IMAGE          the image a container spawner starts (default ai4geo/imagery:latest)
#   AI4GEO_HUB_AUTHENTICATOR  dummy (any name, optional shared password AI4GEO_HUB_PASSWORD; tests and demos)
#                             or a class name (oauthenticator.generic.GenericOAuthenticator...); default: PAM
#   AI4GEO_HUB_IP             the proxy's public address (default 127.0.0.1; 0.0.0.0 to serve a network)
#   AI4GEO_HUB_HOMES          local spawner: parent folder of the users' homes (default /tmp/ai4geo-hub-homes)
#   AI4GEO_HUB_STATE          folder of the hub's database and cookie secret (default: the working directory)
# The proxy is configurable-http-proxy (npm's, or the pure-Python port from PyPI, same command line).
import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

spawner = os.environ.get("AI4GEO_HUB_SPAWNER", "docker")
image = os.environ.get("AI4GEO_HUB_IMAGE", "ai4geo/imagery:latest")
state = Path(os.environ.get("AI4GEO_HUB_STATE", "."))

c.JupyterHub.ip = os.environ.get("AI4GEO_HUB_IP", "127.0.0.1")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 300

if spawner == "docker":
    # The image's start command (start.sh under tini) runs jupyterhub-singleuser when the hub's token is set.
    c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.DockerSpawner.image = image
    c.DockerSpawner.cmd = ["start.sh"]
    c.DockerSpawner.notebook_dir = "/home/jovyan"
    c.DockerSpawner.volumes = {"ai4geo-home-{username}": "/home/jovyan"}  # homes survive the containers
    c.DockerSpawner.network_name = os.environ.get("AI4GEO_HUB_NETWORK", "bridge")
    c.DockerSpawner.remove = True
elif spawner == "kubernetes":
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.KubeSpawner.image = image
    c.KubeSpawner.cmd = ["start.sh"]
    c.KubeSpawner.uid = 1000
    c.KubeSpawner.fs_gid = 1000
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.pvc_name_template = "ai4geo-home-{username}"
    c.KubeSpawner.storage_capacity = os.environ.get("AI4GEO_HUB_HOME_SIZE", "10Gi")
    c.KubeSpawner.volumes = [
        {"name": "home", "persistentVolumeClaim": {"claimName": "ai4geo-home-{username}"}}
    ]
    c.KubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
elif spawner == "local":
    # The single-user server of the environment the hub runs in (the project's venv with its extensions).
    c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
    homes = os.environ.get("AI4GEO_HUB_HOMES", "/tmp/ai4geo-hub-homes")
    c.SimpleLocalProcessSpawner.home_dir_template = f"{homes}/{{username}}"
    singleuser = shutil.which("jupyterhub-singleuser", path=str(Path(sys.executable).parent))
    c.Spawner.cmd = [singleuser or "jupyterhub-singleuser"]
    if os.geteuid() == 0:  # a CI container runs as root; the servers then all run as root too
        c.Spawner.args = ["--allow-root"]
    c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "AI4GEO_DEMO_DIR", "XDG_CACHE_HOME"]
else:
    raise ValueError(f"AI4GEO_HUB_SPAWNER={spawner!r}: expected docker, kubernetes or local")

# The proxy: the configurable-http-proxy on PATH, else the one beside this Python (PyPI's port).
proxy = shutil.which("configurable-http-proxy") or shutil.which(
    "configurable-http-proxy", path=str(Path(sys.executable).parent)
)
if proxy:
    c.ConfigurableHTTPProxy.command = [proxy]

authenticator = os.environ.get("AI4GEO_HUB_AUTHENTICATOR", "")
if authenticator == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    c.Authenticator.allow_all = True
    if os.environ.get("AI4GEO_HUB_PASSWORD"):
        c.DummyAuthenticator.password = os.environ["AI4GEO_HUB_PASSWORD"]
elif authenticator:
    c.JupyterHub.authenticator_class = authenticator
