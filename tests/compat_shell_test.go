package tests

// compatShell covers the shell and everyday text tools: dash, bash, busybox's applets, coreutils' filters, pipelines, redirections, exit statuses, locales.
var compatShell = []compatWorkload{
	{"echo", `echo hello world`},
	{"ls-root", `ls /`},
	{"os-release", `cat /etc/os-release`},
	{"sort-passwd", `sort /etc/passwd | head -5`},
	{"seq-sort", `seq 1 5000 | sort -rn | head -5`},
	{"awk-sum", `seq 100000 | awk '{s+=$1} END {print s}'`},
	{"tr-pipeline", `echo Hello Debian World | tr a-z A-Z | tr ' ' '\n' | sort | uniq -c`},
	{"wc", `wc -c /usr/bin/ls /etc/passwd; wc -l /etc/passwd`},
	{"hostname", `hostname; uname -s -m -n`},
	{"env", `env | sort`},
	{"cd-pwd", `pwd; cd /usr/share && pwd && cd .. && pwd; cd /nonexistent; echo $?`},
	{"xargs", `seq 10 | xargs -n 3 echo`},
	{"sed", `sed -n '1,3s/:.*//p' /etc/passwd; echo abc | sed 's/b/B/'`},
	{"grep", `grep -c root /etc/passwd; grep -rl --include='*.conf' . /etc | sort | head`},
	{"cut-sort", `cut -d: -f1,7 /etc/passwd | sort -t: -k2,2 -k1,1 | head`},
	{"date", `date -u -d @0; date -u -d '2020-02-29 12:00' +%j`},
	{"sleep", `sleep 0.1 && echo slept`},
	{"expr-printf", `expr 6 \* 7; printf '%05d %s %x\n' 42 str 255`},
	{"paste", `for i in 1 2 3 4; do echo $i; done | paste -sd+`},
	{"subshells", `(echo a; echo b) | (read x; read y; echo "$y$x")`},
	{"heredoc", "cat <<EOF\nline one\n$((1+2))\nEOF"},
	{"redirections", `echo out >/tmp/o; echo err 2>&1 >/dev/null; cat /tmp/o; exec 3>/tmp/p; echo three >&3; exec 3>&-; cat /tmp/p`},
	{"exit-codes", `false; echo $?; sh -c 'exit 3'; echo $?; /nonexistent 2>/dev/null; echo $?`},
	{"exit-status", `echo bye; exit 5`},
	{"tee-split", `seq 100 | tee /tmp/t | tail -2; cd /tmp && split -l 30 t part && ls part*`},
	{"comm-join", `printf 'a\nb\nc\n' > /tmp/1; printf 'b\nc\nd\n' > /tmp/2; comm /tmp/1 /tmp/2; join /tmp/1 /tmp/2`},
	{"nested-sh", `sh -c 'sh -c "echo deep; exit 4"'; echo $?`},
	{"sort-parallel", `seq 200000 | sort --parallel=2 -R | sort -n | tail -1`},
	{"xargs-parallel", `seq 20 | xargs -P 4 -n 1 sh -c 'echo $0' | sort -n | tail -3`},
	{"stdin-null", `read x; echo "[$x] $?"; cat /dev/null | wc -c`},
	// busybox applets.
	{"busybox-sh", `busybox sh -c 'echo $((2+3)); for i in a b; do echo $i; done'`},
	{"busybox-find", `busybox find /etc -maxdepth 1 -name 'pass*'`},
	{"busybox-tar", `cd /tmp && busybox tar cf - -C /etc passwd | busybox tar tvf - | busybox awk '{print $1, $NF}'`},
	{"busybox-md5", `busybox md5sum /etc/passwd; busybox sha1sum /etc/group`},
	{"busybox-sed-awk", `busybox sed -n 2p /etc/passwd | busybox awk -F: '{print $1}'`},
	{"busybox-ls", `busybox ls /usr/lib/python3.11 | busybox wc -l`},
	{"csplit", `cd /tmp && seq 1 30 > s && csplit -s s 5 '/^15$/' && wc -l xx* && csplit -s -f part -b '%02d.txt' s '/0$/' '{*}' && ls part* && head -1 part02.txt; csplit -s s '/^99$/' 2>/dev/null; echo "no match $?"; ls xx*`},
	{"bash-features", `bash <<'EOF'
diff <(seq 1 5) <(seq 1 6); echo "diff $?"
while read -r l; do echo "ps:$l"; done < <(printf 'a\nb\n')
coproc UP { tr a-z A-Z; }
echo "to coproc" >&"${UP[1]}"; exec {UP[1]}>&-
read -r line <&"${UP[0]}"; echo "$line"; wait $UP_PID; echo "coproc $?"
read -t 0.2 x < <(sleep 2); echo "read -t $?"
mapfile -t arr < <(seq 3); echo "${#arr[@]} ${arr[*]}"
declare -A m=([k]=v [a]=b); for k in $(printf '%s\n' "${!m[@]}" | sort); do echo "$k=${m[$k]}"; done
[[ "abc" =~ ^a(.)c$ ]] && echo "match ${BASH_REMATCH[1]}"
sleep 0.3 & s=$!; (exit 7) & e=$!; wait -n; echo "wait -n $?"; wait $s; echo "sleep $?"
echo {1..3} {a,b}x; printf -v v '%03d' 7; echo "$v"; echo "${v/0/X}"
set -o pipefail; false | true; echo "pipefail $?"
trap 'echo EXIT trap' EXIT
exec 3< <(echo fd3); cat <&3
echo $(( 2 ** 10 )) "${PIPESTATUS[@]}"
EOF`},
	{"sh-background-jobs", `for i in 1 2 3; do (sleep 0.$i; exit $i) & done; wait; echo "all $?"
sleep 0.2 & a=$!; sh -c 'exit 9' & b=$!; wait $b; echo "b $?"; wait $a; echo "a $?"
bash -c 'set -m; sleep 5 & p=$!; ps -o pid= -o pgid= -p $p | awk "{print (\$1 == \$2) ? \"own group\" : \"same group\"}"; kill -TERM -- -$p; wait $p; echo "group killed $?"' 2>&1
sh -c 'sleep 5 & a=$!; sleep 5 & kill $a $!; wait; echo "jobs killed"'
bash -c 'sleep 0.1 & jobs; wait; jobs; echo done'`},
	{"locale-utf8", `locale -a 2>&1 | sort
LC_ALL=C.UTF-8 python3 -c 'import locale, sys; print(locale.setlocale(locale.LC_ALL, ""), locale.getpreferredencoding(), sys.getfilesystemencoding(), locale.nl_langinfo(locale.CODESET), locale.localeconv()["decimal_point"])'
python3 -c 'import locale; print(locale.getlocale(), locale.getpreferredencoding())'
LC_ALL=fr_FR.UTF-8 python3 -c 'import locale; locale.setlocale(locale.LC_ALL, "")' 2>&1 | tail -1
printf 'b\nä\na\nB\n' | LC_ALL=C.UTF-8 sort | tr '\n' ' '; echo
printf 'ünï\n' | LC_ALL=C.UTF-8 wc -m; printf 'ünï\n' | LC_ALL=C wc -m
LANG=C.UTF-8 date -u -d @0 '+%A %B'; printf '%s\n' "$(LC_ALL=C.UTF-8 printf '%5.2f' 3.14159)"`},
}
