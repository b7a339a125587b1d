"""images/project: the example overlay adds its own packages and notebooks in its own layers only."""

from __future__ import annotations

import json

from conftest import Lab, engine, image_ref, installed_in

LAYER = "project"


def layers(layer: str) -> list[str]:
    return json.loads(
        engine("image", "inspect", "--format", "{{json .RootFS.Layers}}", image_ref(layer)).stdout
    )


def test_overlay_adds_only_its_own_layers(layer: str) -> None:
    below, own = layers("imagery"), layers(layer)
    assert own[: len(below)] == below, "the overlay does not reuse the imagery image's layers"
    assert 1 <= len(own) - len(below) <= 3


def test_project_package_beside_the_stack(layer: str) -> None:
    core, imagery, project = (installed_in(name) for name in ("core", "imagery", layer))
    assert project["h3"] == "4.5.0" and "h3" not in imagery
    assert {name: project[name] for name in imagery} == imagery  # nothing below moved
    assert set(core) <= set(project)


def test_project_notebook_runs(lab: Lab) -> None:
    lab.exec(
        "cd /tmp && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 "
        "--output /tmp/h3.ipynb /opt/ai4geo/notebooks/project/h3_grid.ipynb",
        timeout=900,
    )
    nb = json.loads(lab.exec("cat /tmp/h3.ipynb").stdout)
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if "image/png" in o.get("data", {})]
