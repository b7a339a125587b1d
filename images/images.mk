# Container images (included by the Makefile): core -> imagery -> project, each FROM the one before, all
# installing from images/lock/stack.lock.txt. `make images` builds them, `make images-test` tests them.
# Here they build with podman and no Docker engine (RECIPES); with Docker:
#   make images ENGINE=docker BASE_IMAGE=docker.io/library/debian:bookworm-slim IMAGE_PREFIX=ai4geo
IMAGES := core imagery project
# Podman's storage lives outside the repository (several GB).
PODMAN_STORE ?= /var/tmp/ai4geo-podman
PODMAN_FLAGS := --root $(PODMAN_STORE)/root --runroot $(PODMAN_STORE)/run --storage-driver overlay \
	--runtime runc --cgroup-manager cgroupfs
ENGINE ?= podman $(PODMAN_FLAGS)
IMAGE_PREFIX ?= localhost/ai4geo
IMAGE_TAG ?= latest
# The base: a Debian made here with debootstrap (no container registry is reachable) unless given.
BASE_IMAGE ?= localhost/base:bookworm
DEBIAN_SUITE ?= bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian
# The HTTPS proxy's CA, given to the builds as a secret (never written into a layer) when it exists.
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
IMAGE_WHEELS := build/images/wheels
# --format docker: the OCI format drops SHELL (and with it pipefail in RUN).
IMAGE_BUILD_FLAGS ?= --format docker --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
	$(if $(wildcard $(CA_BUNDLE)),--secret id=cacert$(,)src=$(CA_BUNDLE))
# The CPU torch wheel from $(TORCH_WHEELS) when this machine has it, else PyTorch's CPU index.
TORCH_BUILD_FLAGS ?= $(if $(wildcard $(TORCH_WHEELS)/torch-*.whl),-v $(abspath $(TORCH_WHEELS)):/wheels:ro \
	--build-arg TORCH_FIND_LINKS=/wheels)
IMAGES_PYTEST_ARGS ?=
, := ,

.PHONY: images images-base images-wheels images-test images-lint images-sizes

images: images-base images-wheels
	$(call build_layer,core,--build-arg BASE_IMAGE=$(BASE_IMAGE))
	$(call build_layer,imagery,$(TORCH_BUILD_FLAGS) --build-arg CORE_IMAGE=$(IMAGE_PREFIX)/core:$(IMAGE_TAG))
	$(call build_layer,project,--build-arg IMAGERY_IMAGE=$(IMAGE_PREFIX)/imagery:$(IMAGE_TAG))
	@$(MAKE) --no-print-directory images-sizes

# $(call build_layer,NAME,FLAGS): build images/NAME/Containerfile from the repository root, timed.
define build_layer
	@start=$$(date +%s); \
	$(ENGINE) build $(IMAGE_BUILD_FLAGS) $(2) -f images/$(1)/Containerfile -t $(IMAGE_PREFIX)/$(1):$(IMAGE_TAG) . \
	  && echo "images: $(1) built in $$(( $$(date +%s) - start )) s"
endef

# localhost/base:bookworm: a minimal Debian (debootstrap) imported once; any other BASE_IMAGE is pulled.
images-base:
ifeq ($(BASE_IMAGE),localhost/base:bookworm)
	@$(ENGINE) image exists $(BASE_IMAGE) || { \
	  set -e; rm -rf $(PODMAN_STORE)/rootfs; mkdir -p $(PODMAN_STORE); \
	  debootstrap --variant=minbase $(DEBIAN_SUITE) $(PODMAN_STORE)/rootfs $(DEBIAN_MIRROR) >/dev/null; \
	  tar -C $(PODMAN_STORE)/rootfs -c . | $(ENGINE) import --change 'CMD ["/bin/bash"]' - $(BASE_IMAGE); \
	  rm -rf $(PODMAN_STORE)/rootfs; }
endif

# ai4geo_kernel and every JupyterLab extension as wheels (built with the venv's jlpm), for the imagery layer.
images-wheels: install
	rm -rf $(IMAGE_WHEELS) && mkdir -p $(IMAGE_WHEELS)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pip wheel --disable-pip-version-check -q --no-deps \
	  --no-build-isolation -w $(IMAGE_WHEELS) . $(addprefix ./,$(EXTENSIONS))
	cd $(IMAGE_WHEELS) && ls *.whl | sed 's|^|/opt/ai4geo/wheels/|' > local.txt

# Tests run inside each image; an image re-runs the tests of the layers below it (images/tests).
images-test: install images-lint
	AI4GEO_ENGINE="$(ENGINE)" AI4GEO_IMAGE_PREFIX=$(IMAGE_PREFIX) AI4GEO_IMAGE_TAG=$(IMAGE_TAG) \
	  $(PY) -m pytest images/tests -p no:cacheprovider $(IMAGES_PYTEST_ARGS)

images-lint: install
	$(VENV)/bin/hadolint --failure-threshold error images/*/Containerfile

images-sizes:
	@$(ENGINE) images --filter reference='$(IMAGE_PREFIX)/*' --format '{{.Repository}}:{{.Tag}} {{.Size}}'
