package tests

// compatProc covers /proc and ps: the process's own and other processes' files, as programs read them.
var compatProc = []compatWorkload{
	{"proc-status", `grep -E '^(Name|State|Pid|PPid|Uid|Gid|Tgid)' /proc/self/status`},
	{"proc-1-cmdline", `tr '\0' ' ' < /proc/1/cmdline; echo`},
	{"proc-self-fd", `ls /proc/self/fd`},
	{"proc-exe", `readlink /proc/self/exe; readlink /proc/$$/exe`},
	{"proc-stat", `cut -d' ' -f1-5 /proc/self/stat`},
	{"proc-cpuinfo", `grep -c processor /proc/cpuinfo`},
	{"proc-sys-kernel", `cat /proc/sys/kernel/hostname /proc/sys/kernel/ostype`},
	{"proc-ls-pids", `sleep 5 & echo /proc/[0-9]*; kill $!`},
	{"proc-sys", `cat /proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/hostname; ls /proc/sys; echo 1 > /proc/sys/kernel/shm_rmid_forced 2>/dev/null; echo "write $?"`},
	{"ps-e", `ps -e -o pid,ppid,user,comm`},
	{"ps-ef", `ps -ef >/tmp/ps; awk '{print $1, $2, $3, $8, $9}' /tmp/ps`},
	{"ps-tree", `sleep 5 & sleep 0.3; ps -o pid,ppid,stat,comm --ppid $$ >/tmp/ps; kill $!; grep -v ' ps$' /tmp/ps`},
	{"busybox-ps", `busybox ps -o pid,ppid,comm`},
	{"pgrep", `sleep 5 & sleep 0.3; pgrep -x sleep; kill $!; wait; pgrep -x sleep; echo $?`},
	{"py-proc", `python3 -c 'print([l.split()[0] for l in open("/proc/self/status") if l.startswith(("Pid", "PPid", "Uid"))]); import os; print([e for e in sorted(os.listdir("/proc/self")) if e in ("cmdline", "comm", "cwd", "environ", "exe", "fd", "maps", "root", "stat", "status", "task")], os.readlink("/proc/self/cwd"), sorted(os.listdir("/proc/self/fd")))'`},
	{"proc-fd-links", `exec 5</etc/passwd 6>/tmp/out 7<>/tmp/rw
ls -la /proc/self/fd </dev/null 2>/dev/null | sed "s@/proc/[0-9]*/@/proc/N/@" | awk 'NR>3 {print $1, $3, $9, $10, ($11 ~ /^pipe:/ ? "pipe" : $11)}'
readlink /proc/$$/fd/5 /proc/$$/fd/6 /proc/$$/fd/7 /proc/self/cwd /proc/self/root
cd /usr/share && readlink /proc/self/cwd /proc/$$/cwd
readlink /proc/self/exe /proc/$$/exe; python3 -c 'import os, sys; print(os.readlink("/proc/self/exe"), sys.executable)'
stat -L -c '%F' /proc/self/fd/5; cat /proc/self/fd/5 | head -1; cat /dev/fd/5 | wc -l`},
	{"proc-cmdline", `cat /proc/self/cmdline | tr '\0' ' '; echo
sh -c 'tr "\0" " " < /proc/$$/cmdline; echo' arg0 one "two words"
python3 -c 'import sys; print(open("/proc/self/cmdline").read().split("\0")[:-1], open("/proc/self/comm").read())' x y
cat /proc/self/environ | tr '\0' '\n' | sort | head -3`},
	{"ps-o-stat", `sleep 5 & s1=$!; sh -c 'sleep 5' & s2=$!
while [ "$(ps -e -o comm= | grep -c '^sleep$')" -lt 2 ]; do sleep 0.05; done; sleep 0.1; ps -o pid,ppid,stat,comm; ps -o pid,pgid,sid,comm -p $$
ps -o stat= -p 1; comms=$(ps -e -o comm=); echo "$comms" | sort | uniq -c | awk '{print $2 "_" $1}'
kill -0 $s1 && echo alive; kill $s1; wait $s1; echo "killed $?"; kill -0 $s1 2>/dev/null; echo "gone $?"
pkill -P $s2 sleep; wait $s2; echo "child of sh killed $?"`},
	// Found and fixed: /proc/PID/comm after prctl(PR_SET_NAME) in a dynamic program.
	{"proc-comm-renamed", `python3 -c 'import ctypes; libc = ctypes.CDLL(None); libc.prctl(15, b"newcomm", 0, 0, 0); print(open("/proc/self/comm").read().strip(), open("/proc/self/status").readline().split()[1]); buf = ctypes.create_string_buffer(16); libc.prctl(16, buf, 0, 0, 0); print(buf.value)'
perl -e '$0 = "renamed-perl worker"; open my $f, "<", "/proc/self/comm"; print <$f>'`},
	// Found and fixed: the mode of /proc/PID/fd.
	{"proc-fd-dir-mode", `stat -c '%A %n' /proc/self/fd /proc/1/fd /proc/self/task 2>&1`},
	// More of a process's files (scheduler, memory, the container's id
	// maps as the namespace mode shows them) and /proc/pressure.
	{"proc-more-files", `wc -w < /proc/self/schedstat; grep -c '^Rss:' /proc/self/smaps_rollup; grep -c '^Rss:' /proc/self/smaps | sed 's/^[1-9][0-9]*$/some/'
cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups | tr -s ' '
ls /proc/pressure 2>&1; test -r /proc/self/oom_score && echo oom_score; cat /proc/self/timerslack_ns
python3 -c 'import os; print(os.listdir("/proc/self/task")[0] == str(os.getpid()))'
(echo x > /proc/sys/kernel/hostname) 2>&1`},
	// Found and fixed: a process's own writable files (oom_score_adj,
	// comm, coredump_filter) and /proc/PID/ns, whose links tell namespaces
	// apart.
	{"proc-write-ns", `echo 500 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj
sh -c 'echo 300 > /proc/$$/oom_score_adj; cat /proc/$$/oom_adj; echo -500 > /proc/$$/oom_score_adj' 2>&1 | sed 's/^.*: //'
stat -c '%A' /proc/self/oom_score_adj /proc/self/comm; test -w /proc/self/coredump_filter && echo writable
python3 -c 'open("/proc/self/comm", "w").write("renamed"); print(open("/proc/self/comm").read().strip())'
ls -l /proc/self/ns | awk 'NR > 1 {print $1, $9}' | tr '\n' ' '; echo
for n in net pid mnt user uts ipc cgroup; do a=$(readlink /proc/self/ns/$n); i=$(stat -L -c %i /proc/self/ns/$n); [ "$a" = "$(readlink /proc/1/ns/$n)" ] && [ "$a" = "$n:[$i]" ] && echo "$n same"; done
cat /proc/self/ns/net/x 2>&1 | sed 's/^.*: //'`},
	// Found and fixed: more of the host's files (cmdline, devices,
	// partitions, interrupts...) and /proc/locks with the workload's locks.
	{"proc-locks-host-files", `python3 -c 'import fcntl, os, subprocess; f = open("/tmp/l2", "w"); fcntl.lockf(f, fcntl.LOCK_EX); mine = [l.split() for l in open("/proc/locks")]; print([l[1:4] for l in mine], [l[4] == str(os.getpid()) for l in mine]); print(subprocess.run(["lslocks", "-o", "COMMAND,TYPE,MODE,PATH"], capture_output=True, text=True).stdout)'
for f in cmdline consoles crypto devices execdomains interrupts softirqs misc partitions buddyinfo zoneinfo; do [ "$(head -c 1 /proc/$f | wc -c)" = 1 ] && echo "$f"; done | tr '\n' ' '; echo
grep -c ' pts$' /proc/devices`},
}
