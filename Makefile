# drover: build, image and install helpers. `make help` lists the targets.
#
# The binaries are static (CGO_ENABLED=0); the version comes from git
# describe unless VERSION is given. Container targets use podman by default
# (CONTAINER=docker works for `image-full`).

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO        ?= go
CONTAINER ?= podman
IMAGE     ?= localhost/drover
DIST      ?= dist
# the iPXE loaders copied into the image (Debian's ipxe package)
IPXE_DIR  ?= /usr/lib/ipxe
IPXE_FILES = undionly.kpxe undionly.kkpxe snponly.efi ipxe.efi ipxe.pxe
PLATFORMS ?= linux/amd64,linux/arm64
REGISTRY  ?= ghcr.io/drover-dev

# -trimpath for release builds; TRIMPATH= reuses the cache of a plain `go build`
TRIMPATH ?= -trimpath
LDFLAGS = -s -w -buildid= -X drover.dev/drover/internal/cli.version=$(VERSION) -X main.version=$(VERSION)
GOBUILD = CGO_ENABLED=0 $(GO) build $(TRIMPATH) -ldflags '$(LDFLAGS)'
CTX     = $(DIST)/image

.PHONY: help build drover agent test image image-context image-full image-multiarch image-push-instructions image-size clean

help:
	@echo 'make build                    drover and drover-agent into $(DIST)/ (static, VERSION=$(VERSION))'
	@echo 'make image                    offline image $(IMAGE):$(VERSION) (+ :dev) from host-built binaries (Containerfile.offline)'
	@echo 'make image-full               image from source with Containerfile (needs a registry for golang and debian)'
	@echo 'make image-multiarch          amd64+arm64 manifest $(IMAGE):$(VERSION) with podman (needs a registry)'
	@echo 'make image-push-instructions  how to tag and push latest, the version and dev'
	@echo 'make image-size               image size and uncompressed tar size'
	@echo 'make test                     the test suite (scripts/test.sh)'

build: drover agent

drover:
	$(GOBUILD) -o $(DIST)/drover ./cmd/drover

agent:
	$(GOBUILD) -o $(DIST)/drover-agent ./cmd/drover-agent

test:
	scripts/test.sh

# The offline image: the binaries built here, the loaders from the host's
# ipxe package (apt-get install ipxe), FROM scratch. The build context holds
# only the final root filesystem, laid out exactly as Containerfile's final
# stage lays it out.
image-context: build
	@for f in $(IPXE_FILES); do test -e $(IPXE_DIR)/$$f || { echo "$(IPXE_DIR)/$$f missing: apt-get install ipxe (or set IPXE_DIR)"; exit 1; }; done
	rm -rf $(CTX)
	mkdir -p $(CTX)/rootfs/usr/bin $(CTX)/rootfs/usr/lib/ipxe $(CTX)/data
	cp $(DIST)/drover $(DIST)/drover-agent $(CTX)/rootfs/usr/bin/
	for f in $(IPXE_FILES); do cp -L $(IPXE_DIR)/$$f $(CTX)/rootfs/usr/lib/ipxe/; done
	chmod 0755 $(CTX)/rootfs/usr/bin/*
	# File capabilities (see Containerfile): needs setcap (libcap2-bin) and root.
	setcap cap_net_bind_service,cap_net_raw=ep $(CTX)/rootfs/usr/bin/drover
	chmod 0644 $(CTX)/rootfs/usr/lib/ipxe/*
	cp Containerfile.offline $(CTX)/Containerfile

image: image-context
	$(CONTAINER) build --pull=never --build-arg VERSION=$(VERSION) \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):dev -f $(CTX)/Containerfile $(CTX)

image-full:
	$(CONTAINER) build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) -t $(IMAGE):dev -f Containerfile .

image-multiarch:
	-$(CONTAINER) manifest rm $(IMAGE):$(VERSION) 2>/dev/null
	$(CONTAINER) build --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) \
	  --manifest $(IMAGE):$(VERSION) -f Containerfile .

image-push-instructions:
	@echo '# multi-arch manifest, then the three tags (see docs/deploy.md):'
	@echo 'make image-multiarch IMAGE=$(REGISTRY)/drover VERSION=$(VERSION)'
	@echo 'podman manifest push --all $(REGISTRY)/drover:$(VERSION) docker://$(REGISTRY)/drover:$(VERSION)'
	@echo 'podman manifest push --all $(REGISTRY)/drover:$(VERSION) docker://$(REGISTRY)/drover:latest   # releases only'
	@echo 'podman manifest push --all $(REGISTRY)/drover:$(VERSION) docker://$(REGISTRY)/drover:dev      # every main build'
	@echo '# docker instead:'
	@echo 'docker buildx build --platform $(PLATFORMS) --build-arg VERSION=$(VERSION) \'
	@echo '  -t $(REGISTRY)/drover:$(VERSION) -t $(REGISTRY)/drover:latest --push .'

image-size:
	@$(CONTAINER) image inspect --format 'image {{.Size}} bytes' $(IMAGE):$(VERSION)
	@echo "uncompressed tar $$($(CONTAINER) save --format docker-archive $(IMAGE):$(VERSION) | wc -c) bytes"

clean:
	rm -rf $(DIST)
