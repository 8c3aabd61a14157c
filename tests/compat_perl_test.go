package tests

// compatPerl covers perl programs: POSIX calls, file I/O, directories, fork, pipes, signals, select.
var compatPerl = []compatWorkload{
	{"perl-posix", `perl -MPOSIX -e 'my @u = POSIX::uname(); print "$u[0] $u[4]\n"; print POSIX::getuid(), " ", POSIX::getcwd(), "\n"'`},
	{"perl-sort", `perl -e 'print join(",", sort { $a <=> $b } map { ($_ * 7919) % 101 } 1..20), "\n"'`},
	{"perl-print", `perl -e 'print "hi from perl ", 6*7, "\n"'`},
	{"perl-grep", `perl -ne 'print if /^root/' /etc/passwd`},
	{"perl-readdir", `perl -e 'opendir my $d, "/etc" or die; my @e = grep !/^\./, readdir $d; print scalar(@e) > 10 ? "many\n" : "few\n"'`},
	{"perl-fork", `perl -e 'if (my $p = fork) { waitpid $p, 0; print $? >> 8, "\n" } else { exit 7 }'`},
	{"perl-pipe", `perl -e 'open my $f, "-|", "ls", "/" or die; my @l = <$f>; close $f; print scalar(@l), "\n"'`},
	{"perl-fileio", `perl -e 'open my $o, ">", "/tmp/p" or die; print $o "line$_\n" for 1..100; close $o; open my $i, "<", "/tmp/p"; my @l = <$i>; print scalar(@l), " ", $l[-1]; unlink "/tmp/p"; print -e "/tmp/p" ? "still\n" : "gone\n"'`},
	{"perl-signal", `perl -e '$SIG{USR1} = sub { print "caught\n" }; kill "USR1", $$; print "pid $$\n"'`},
	{"perl-fork-select", `perl - <<'EOF'
use strict; use POSIX ":sys_wait_h";
my @kids;
for my $i (1..3) {
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if (!$pid) { close $r; select(undef, undef, undef, 0.05 * $i); syswrite $w, "child $i\n"; exit $i; }
    close $w; push @kids, [$pid, $r];
}
my $rin = ''; vec($rin, fileno($_->[1]), 1) = 1 for @kids;
my @got;
while (@got < 3) {
    my $n = select(my $rout = $rin, undef, undef, 5);
    die "timeout" unless $n > 0;
    for (@kids) { if (vec($rout, fileno($_->[1]), 1)) { my $l = readline($_->[1]); if (defined $l) { push @got, $l } vec($rin, fileno($_->[1]), 1) = 0; } }
}
print sort @got;
my @st;
for (@kids) { waitpid($_->[0], 0); push @st, WEXITSTATUS($?); }
print "@st\n";
print waitpid(-1, WNOHANG), "\n";
my $r = eval { local $SIG{ALRM} = sub { die "alarm\n" }; alarm 1; sleep 10; alarm 0; 1 };
print $r ? "slept\n" : "interrupted: $@";
my $pid = open(my $fh, "-|") // die; if (!$pid) { print "from forked open\n"; exit 0 } print <$fh>; close $fh; print "close status $?\n";
system("sh", "-c", "exit 4"); print "system ", $? >> 8, "\n";
my $out = qx(echo backticks); print $out;
kill 0, $$ and print "kill 0 ok\n";
EOF`},
}
