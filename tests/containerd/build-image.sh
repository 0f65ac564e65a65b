#!/usr/bin/env bash
# Builds a one-layer OCI image of Debian's busybox-static, without a registry, for
# `ctr images import`:
#   tests/containerd/build-image.sh OUT_DIR [BUSYBOX]   -> OUT_DIR/busybox-oci.tar
# (IMAGE_NAME, IMAGE_CMD and IMAGE_FILE change the name, the Cmd JSON array and the file
# name: tests/cri/drive.py builds its pause image so.)
# The layer is a rootfs with /bin/busybox, a symlink per applet, /etc/passwd and
# /etc/group (root, and user 1000 for `--user 1000:1000`), /tmp and /root. The image
# config sets PATH and Cmd ["sh"]; index.json names it docker.io/local/busybox:latest
# (annotation io.containerd.image.name). The build is reproducible: sorted entries,
# numeric owners, mtime 0, gzip -n.
set -euo pipefail
out=${1:?usage: build-image.sh OUT_DIR [BUSYBOX]}
busybox=${2:-/bin/busybox}
name=${IMAGE_NAME:-docker.io/local/busybox:latest}
cmd=${IMAGE_CMD:-'["sh"]'}
file=${IMAGE_FILE:-busybox-oci.tar}
[ -x "$busybox" ] || { echo "no $busybox (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
  [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
EOF

img=$work/img
mkdir -p "$img/blobs/sha256"
blob() { # FILE -> stores it as a blob, prints "DIGEST SIZE"
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$img/blobs/sha256/$d"
  echo "$d $s"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -9 "$work/layer.tar"
read -r layer layer_size < <(blob "$work/layer.tar.gz")

printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'"$cmd"',"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},"history":[{"created_by":"tests/containerd/build-image.sh"}]}' > "$work/config.json"
read -r config config_size < <(blob "$work/config.json")

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$layer_size"'}]}' > "$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$manifest_size"',"annotations":{"io.containerd.image.name":"'"$name"'","org.opencontainers.image.ref.name":"latest"}}]}' > "$img/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$img" -cf "$out/$file" oci-layout index.json blobs
echo "$out/$file: $name (manifest sha256:$manifest, layer $layer_size bytes)"
