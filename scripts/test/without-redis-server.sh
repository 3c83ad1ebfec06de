#!/usr/bin/env bash
# Runs a command on this machine as if redis-server had never been installed, without touching the
# machine: run it as root inside `unshare --mount --propagation private`. /usr, /var and /etc become
# copy-on-write overlays whose changes live in a tmpfs and vanish with the namespace; redis-server
# is deleted from them and dpkg forgets it, so `apt-get install redis-server` really installs it
# again (into the overlays). A policy-rc.d keeps the package's scripts from starting a service.
set -euo pipefail
work=$(mktemp -d)
mount -t tmpfs tmpfs "$work"
# /etc's bind mounts (resolv.conf, hosts) are not seen through an overlay: keep their contents.
cp /etc/resolv.conf /etc/hosts "$work/"
for dir in usr var etc; do
  mkdir -p "$work/$dir/upper" "$work/$dir/work"
  mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/$dir/upper,workdir=$work/$dir/work" "/$dir"
done
cat "$work/resolv.conf" >/etc/resolv.conf
cat "$work/hosts" >/etc/hosts
for dir in /usr/local/bin /usr/bin /usr/sbin /snap/bin; do rm -f "$dir/redis-server"; done
awk -v RS= -v ORS='\n\n' '!/^Package: redis-server\n/' /var/lib/dpkg/status >"$work/status"
cat "$work/status" >/var/lib/dpkg/status
rm -f /var/lib/dpkg/info/redis-server.*
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
rc=0
"$@" || rc=$?
# The mounts die with the namespace; only the empty mount point is left to remove.
umount -l /etc /var /usr "$work"
rmdir "$work"
exit "$rc"
