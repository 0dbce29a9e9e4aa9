#!/bin/sh
# Samples, every INTERVAL seconds until the pids file is gone, what a long
# `tally bench --duration` run does to the machine: each cluster process's
# /proc/PID/io (bytes read and written, of which to disk), its page faults
# from /proc/PID/stat, the kernel's dirty and writeback pages and
# /proc/pressure/io. Run beside the bench on its data dir:
#   bench/soak_probe.sh DATA_DIR [INTERVAL] > probe.log
set -u
dir=$1
interval=${2:-60}
start=$(date +%s)
until [ -s "$dir/pids" ]; do sleep 1; done
while [ -s "$dir/pids" ]; do
    t=$(( $(date +%s) - start ))
    mem=$(awk '/^(Dirty|Writeback):/ { printf "%s%s=%dMiB", sep, tolower($1), $2 / 1024; sep = " " }' /proc/meminfo | tr -d :)
    io=$(awk '/^some/ { print "io_some_avg60=" substr($3, 7) } /^full/ { print "io_full_avg60=" substr($3, 7) }' /proc/pressure/io | tr '\n' ' ')
    echo "probe t=${t}s $mem $io"
    while read -r name pid; do
        [ -r "/proc/$pid/io" ] || continue
        wchar=$(awk '/^wchar/ { print $2 }' "/proc/$pid/io")
        wbytes=$(awk '/^write_bytes/ { print $2 }' "/proc/$pid/io")
        rbytes=$(awk '/^read_bytes/ { print $2 }' "/proc/$pid/io")
        # minflt majflt utime stime: fields 10, 12, 14, 15 of stat (after the name)
        faults=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print "minflt=" $8 " majflt=" $10 " utime=" $12 " stime=" $13 }')
        echo "probe t=${t}s $name wchar=$wchar write_bytes=$wbytes read_bytes=$rbytes $faults"
    done < "$dir/pids"
    sleep "$interval"
done
