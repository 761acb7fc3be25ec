#!/usr/bin/env bash
# Runs one control-plane process for as long as its parent holds fd 3 open. The parent (a Node
# process) never writes to it: when it exits, however it dies, the pipe closes and the process is
# stopped, so a killed test run leaves no etcd or kube-apiserver behind. With KUBE_REAL_GUARD_CLEANUP
# set, that folder (the cluster's temporary files) is removed after such a stop.
set -u
"$@" </dev/null 3<&- &
child=$!
cat <&3 >/dev/null &
reader=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
wait -n $child $reader
if kill -0 $child 2>/dev/null; then
  kill -TERM $child 2>/dev/null
  for _ in $(seq 1 50); do kill -0 $child 2>/dev/null || break; sleep 0.1; done
  kill -KILL $child 2>/dev/null
  wait $child 2>/dev/null
  rc=0
  [ -n "${KUBE_REAL_GUARD_CLEANUP:-}" ] && rm -rf "$KUBE_REAL_GUARD_CLEANUP"
else
  wait $child; rc=$?
  kill $reader 2>/dev/null
fi
exit $rc
