#!/bin/sh
# Build the gridpos Debian package: packaging/build-deb.sh [OUTPUT_DIR]  (make deb)
#
# The program and its Python libraries are installed with pip into /usr/lib/gridpos (compiled
# libraries for this architecture's python3.11), first on the path of /usr/bin/gridpos. Pillow is
# the exception: its wheel carries its own libjpeg, libtiff, freetype…, which would miss Debian's
# security updates, so it comes from Debian (python3-pil; only the framebuffer and PNG screens
# use it). No bytecode is shipped: postinst makes it.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build}
python=${PYTHON:-/usr/bin/python3}
version=$(cd "$here" && "$python" -c \
    'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/gridpos"
lib="$root/usr/lib/gridpos"
doc="$root/usr/share/doc/gridpos"

# From a clean copy of the sources: an in-tree build/ could carry modules deleted since.
mkdir "$stage/src"
tar -C "$here" --exclude=./.venv --exclude=./build --exclude=./.git --exclude=./tests \
    --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache \
    --exclude=.hypothesis --exclude=.mypy_cache -cf - . | tar -C "$stage/src" -xf -
"$python" -m pip install --quiet --no-cache-dir --no-compile --no-warn-script-location --disable-pip-version-check \
    --target "$lib" "$stage/src"
rm -rf "$lib/bin"  # pip's console script: /usr/bin/gridpos is the launcher below
rm -rf "$lib/PIL" "$lib"/pillow*  # from Debian, see above
find "$lib" -name __pycache__ -type d -prune -exec rm -rf {} +
find "$lib" -name '*.so' -exec strip --strip-unneeded {} + 2>/dev/null || true

install -D -m 0755 "$here/packaging/gridpos-launcher" "$root/usr/bin/gridpos"
install -D -m 0644 "$here/packaging/gridpos.service" "$root/lib/systemd/system/gridpos.service"
install -D -m 0644 "$here/packaging/gridpos-backup.service" \
    "$root/lib/systemd/system/gridpos-backup.service"
install -D -m 0644 "$here/packaging/gridpos-backup.timer" \
    "$root/lib/systemd/system/gridpos-backup.timer"
install -D -m 0644 "$here/packaging/60-gridpos.rules" "$root/lib/udev/rules.d/60-gridpos.rules"
install -D -m 0644 "$here/packaging/gridpos.toml" "$root/etc/gridpos/gridpos.toml"
install -D -m 0644 "$here/packaging/debian/copyright" "$doc/copyright"
for page in operations.md protocol.md; do
    install -m 0644 "$here/docs/$page" "$doc/$page"
done
sed "s/@VERSION@/$version/" "$here/packaging/debian/changelog" | gzip -9n > "$doc/changelog.gz"
chmod -R u=rwX,go=rX "$root"
find "$lib" -type f -exec chmod 0644 {} +  # libraries are imported, never run

mkdir -p "$root/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$here/packaging/debian/$script" "$root/DEBIAN/$script"
done
install -m 0644 "$here/packaging/debian/conffiles" "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    "$here/packaging/debian/control.in" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' \
    | LC_ALL=C sort -z | xargs -0 md5sum > DEBIAN/md5sums)

mkdir -p "$out"
deb="$out/gridpos_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
