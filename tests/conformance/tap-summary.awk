# Summarise the TAP stream written by one runtime-tools validation executable.
#
# Only test points at the start of a line belong to the stream; everything
# between an indented "---" and "..." is a YAML diagnostic block (it may hold
# the nested TAP of runtimetest, which must not be counted here).
#
# Prints one tab-separated line:
#   ok  notok  skip  todo  points  plan  bailout  errdiag  first_failure
# plan is -1 when no plan line was seen; several plans (several streams
# concatenated) are added up.  errdiag counts top-level YAML blocks carrying
# a non-empty "error" value: the lifecycle tests (hooks, prestart, ...) emit
# no test point at all and report a spec violation only that way.

function directive_of(line,    rest) {
	rest = line
	# The directive follows the first unescaped '#'.
	while (match(rest, /#/)) {
		if (RSTART > 1 && substr(rest, RSTART - 1, 1) == "\\") {
			rest = substr(rest, RSTART + 1)
			continue
		}
		return tolower(substr(rest, RSTART + 1))
	}
	return ""
}

function description_of(line) {
	sub(/^(not )?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", line)
	gsub(/\t/, " ", line)
	return line
}

BEGIN {
	ok = 0; notok = 0; skip = 0; todo = 0; points = 0
	plan = -1; bailout = 0; first = ""; in_yaml = 0
	errdiag = 0; first_err = ""
}

in_yaml {
	if ($0 ~ /^[ \t]+\.\.\.[ \t]*$/) {
		in_yaml = 0
	} else if ($0 ~ /^[ \t]*"error":[ \t]*"[^"]/ || $0 ~ /^[ \t]*error:[ \t]*[^ \t"']/) {
		errdiag++
		if (first_err == "") {
			first_err = $0
			sub(/^[ \t]*"?error"?:[ \t]*"?/, "", first_err)
			sub(/(\\n|",?[ \t]*$).*$/, "", first_err)
		}
	}
	next
}

/^[ \t]+---[ \t]*$/ {
	in_yaml = 1
	next
}

/^not ok([ \t]|$)/ {
	points++
	notok++
	d = directive_of($0)
	if (d ~ /^[ \t]*todo/)
		todo++
	if (first == "")
		first = description_of($0)
	next
}

/^ok([ \t]|$)/ {
	points++
	ok++
	d = directive_of($0)
	if (d ~ /^[ \t]*skip/)
		skip++
	else if (d ~ /^[ \t]*todo/)
		todo++
	next
}

/^1\.\.[0-9]+/ {
	n = $0
	sub(/^1\.\./, "", n)
	sub(/[^0-9].*$/, "", n)
	plan = (plan < 0 ? 0 : plan) + n
	next
}

/^Bail out!/ {
	bailout = 1
	if (first == "")
		first = $0
	next
}

END {
	# Attached to test points these blocks are ordinary (often expected)
	# errors; they only stand for a failure when there is no test point.
	if (first == "" && points == 0)
		first = first_err
	printf "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", ok, notok, skip, todo, points, plan, bailout, errdiag, first
}
