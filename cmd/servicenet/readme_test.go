package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"mvdan.cc/sh/v3/syntax"

	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// The README's shell examples are a contract with its readers: run in order
// against the demo brand that `make run` seeds, each call answers the status
// its trailing comment states (`# 200`), and every field the examples read
// with jq is there. TestReadmeExamples runs them as written, with bash, curl
// and jq, from a directory laid out like a clone after `make run` (the same
// seed code writes .data/demo.env there and the same serve code answers).
//
// Conventions the test enforces on README.md:
//   - every ```sh block runs, in order, in one bash session, except a block
//     preceded by `<!-- readme-test: skip (why) -->`;
//   - a command calls curl at most once, and a command that calls it ends
//     with a comment starting with the status it answers;
//   - URLs are `$SERVICENET_URL/...`: the server's root, the API under /v1
//     (the convention the seed banner and .data/demo.env share);
//   - no example uses curl's -D (the test reads each status with it).

// readmeCommand is one command (or a few on one line) of a README example.
type readmeCommand struct {
	Line, EndLine int // in README.md, 1-based
	Text          string
	Calls         int // curl invocations
	Status        int // the status its comment states; 0 when none
}

var (
	readmeStatus    = regexp.MustCompile(`^\s*(\d{3})\b`)
	readmeSkip      = regexp.MustCompile(`^<!--\s*readme-test:\s*skip\b`)
	readmeFence     = regexp.MustCompile("^```(sh|bash|shell)\\s*$")
	readmeDumpFlags = regexp.MustCompile(`(^|\s)(-D|--dump-header)(\s|$)`)
)

// parseReadme returns the commands of README.md's runnable shell examples in
// order, and what breaks the conventions above.
func parseReadme(md string) ([]readmeCommand, []string) {
	var (
		cmds     []readmeCommand
		problems []string
	)
	lines := strings.Split(md, "\n")
	prev := "" // the last non-blank line before a fence
	for i := 0; i < len(lines); i++ {
		if !readmeFence.MatchString(lines[i]) {
			if strings.TrimSpace(lines[i]) != "" {
				prev = strings.TrimSpace(lines[i])
			}
			continue
		}
		start := i + 1 // index of the block's first line
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		skip := readmeSkip.MatchString(prev)
		i, prev = end, ""
		if skip {
			continue
		}
		block := lines[start:end]
		f, err := syntax.NewParser(syntax.KeepComments(true)).Parse(strings.NewReader(strings.Join(block, "\n")), "README.md")
		if err != nil {
			problems = append(problems, fmt.Sprintf("README.md:%d: the example does not parse as shell: %v", start+1, err))
			continue
		}
		// Statements sharing a line (`a; b`) make one command.
		var cur *readmeCommand
		for _, st := range f.Stmts {
			first, last := int(st.Pos().Line()), int(st.End().Line())
			calls := 0
			syntax.Walk(st, func(n syntax.Node) bool {
				if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 && c.Args[0].Lit() == "curl" {
					calls++
				}
				return true
			})
			status := 0
			for _, c := range st.Comments {
				if int(c.Pos().Line()) == last && c.Pos().After(st.End()) {
					if m := readmeStatus.FindStringSubmatch(c.Text); m != nil {
						status, _ = strconv.Atoi(m[1])
					}
				}
			}
			if cur != nil && first <= cur.EndLine-start {
				cur.EndLine = max(cur.EndLine, start+last)
				cur.Calls += calls
				cur.Status = max(cur.Status, status)
				continue
			}
			cmds = append(cmds, readmeCommand{Line: start + first, EndLine: start + last, Calls: calls, Status: status})
			cur = &cmds[len(cmds)-1]
		}
	}
	for i := range cmds {
		c := &cmds[i]
		c.Text = strings.Join(lines[c.Line-1:c.EndLine], "\n")
		at := fmt.Sprintf("README.md:%d: ", c.Line)
		switch {
		case c.Calls > 1:
			problems = append(problems, at+"one curl per command, so that each call can state its status")
		case c.Calls == 1 && c.Status == 0:
			problems = append(problems, at+"state the status the call answers in a trailing comment (# 200)")
		case c.Calls == 0 && c.Status != 0:
			problems = append(problems, at+"a status comment on a command that calls no API")
		}
		if c.Calls > 0 && !strings.Contains(c.Text, "$SERVICENET_URL/") {
			problems = append(problems, at+"address the server as $SERVICENET_URL/... (its root; the API is under /v1)")
		}
		if c.Calls > 0 && readmeDumpFlags.MatchString(c.Text) {
			problems = append(problems, at+"curl -D is taken by the README test; show headers with -i or -w '%header{name}'")
		}
	}
	return cmds, problems
}

// The shims stand in for curl and jq on the examples' PATH. The curl shim
// runs the real curl and logs the status each call answered under the
// README line of its command (README_LINE); the jq shim runs the real jq and
// logs a failure, or a null in its output: a field the example reads is
// missing, so the API no longer answers what the README shows.
const readmeCurlShim = `#!/usr/bin/env bash
hdr=$(mktemp)
"$README_REAL_CURL" -D "$hdr" "$@"
rc=$?
status=$(awk '/^HTTP\//{s=$2} END{print s}' "$hdr")
rm -f "$hdr"
url=
for a in "$@"; do case $a in http://*|https://*) url=$a;; esac; done
printf '%s\t%s\t%s\t%s\n' "$README_LINE" "${status:-000}" "$rc" "$url" >> "$README_CALLS"
exit $rc
`

const readmeJqShim = `#!/usr/bin/env bash
out=$(mktemp)
"$README_REAL_JQ" "$@" > "$out"
rc=$?
cat "$out"
args="$*"
args=${args//$'\n'/ }
if [ "$rc" -ne 0 ]; then
  printf '%s\tjq exited %s\t%s\n' "$README_LINE" "$rc" "$args" >> "$README_JQ"
elif grep -qx null "$out" || "$README_REAL_JQ" -e -s 'any(.[]; [..] | any(. == null))' "$out" > /dev/null 2>&1; then
  printf '%s\tjq printed null (a field it reads is missing)\t%s\n' "$README_LINE" "$args" >> "$README_JQ"
fi
rm -f "$out"
exit $rc
`

// readmeDemo is a server with the demo brand, as `make run` leaves it: dir
// is the clone's stand-in, holding .data/demo.env.
type readmeDemo struct {
	dir, banner string
	env         map[string]string
}

// startReadmeDemo seeds the demo brand into a fresh database and serves it
// on a free port, through the same seed and serve code as `make run`.
func startReadmeDemo(t *testing.T) readmeDemo {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	d := readmeDemo{dir: t.TempDir()}
	envFile := ".data/demo.env"
	vars := map[string]string{"DATABASE_URL": db.OwnerURL, "SERVICENET_ADDR": addr}
	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"seed", "-env-file", filepath.Join(d.dir, envFile)}, env(vars), &out, io.Discard))
	d.banner = out.String()
	d.env = readEnv(t, filepath.Join(d.dir, envFile))

	// As the Makefile: the operator token from demo.env unless one is set.
	vars["SERVICENET_OPERATOR_TOKEN"] = d.env["OPERATOR_TOKEN"]
	cfg, err := config.Load(env(vars))
	require.NoError(t, err)
	logs := &syncBuffer{}
	serveCtx, stop := context.WithCancel(ctx)
	listening, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- serve(serveCtx, cfg, logging.New(logs, slog.LevelWarn), io.Discard, listening) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("the demo server did not stop within 20s")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start listening within 30s")
	}
	return d
}

// run runs README.md's examples (md) in d's directory and returns what
// differs from what the README states, and the examples' output.
func (d readmeDemo) run(t *testing.T, md string) (problems []string, output string) {
	t.Helper()
	cmds, problems := parseReadme(md)
	if len(cmds) == 0 {
		return append(problems, "README.md has no shell examples to run"), ""
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "curl"), []byte(readmeCurlShim), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "jq"), []byte(readmeJqShim), 0o755))
	realCurl, err := exec.LookPath("curl")
	require.NoError(t, err)
	realJq, err := exec.LookPath("jq")
	require.NoError(t, err)

	var script strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&script, "export README_LINE=%d\n%s\n", c.Line, c.Text)
	}
	scriptFile := filepath.Join(tmp, "readme.sh")
	require.NoError(t, os.WriteFile(scriptFile, []byte(script.String()), 0o644))
	calls, jqLog := filepath.Join(tmp, "calls.tsv"), filepath.Join(tmp, "jq.tsv")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", scriptFile)
	sh.Dir = d.dir
	// A reader's shell, not the test's: nothing of the demo is set before
	// the examples source .data/demo.env.
	sh.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + tmp, "LANG=C.UTF-8",
		"README_REAL_CURL=" + realCurl, "README_REAL_JQ=" + realJq, "README_CALLS=" + calls, "README_JQ=" + jqLog}
	var stdout, stderr bytes.Buffer
	sh.Stdout, sh.Stderr = &stdout, &stderr
	if err := sh.Run(); err != nil {
		problems = append(problems, fmt.Sprintf("the examples exited with %v", err))
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		problems = append(problems, "the examples wrote to stderr:\n"+s)
	}

	got := map[int][]string{} // README line → "status url" of each call
	for _, f := range readTSV(t, calls) {
		line, _ := strconv.Atoi(f[0])
		got[line] = append(got[line], f[1]+" "+f[3])
	}
	for _, c := range cmds {
		if c.Calls == 0 {
			continue
		}
		at := fmt.Sprintf("README.md:%d: ", c.Line)
		switch answers := got[c.Line]; {
		case len(answers) == 0:
			problems = append(problems, at+"the call did not run")
		case len(answers) > 1:
			problems = append(problems, fmt.Sprintf("%sthe call ran %d times: %v", at, len(answers), answers))
		case !strings.HasPrefix(answers[0], strconv.Itoa(c.Status)+" "):
			problems = append(problems, fmt.Sprintf("%sexpected %d, got %s", at, c.Status, answers[0]))
		}
	}
	for _, f := range readTSV(t, jqLog) {
		problems = append(problems, fmt.Sprintf("README.md:%s: %s: jq %s", f[0], f[1], f[2]))
	}
	return problems, stdout.String()
}

// readTSV reads a shim's log; a log never written is empty.
func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		row := strings.SplitN(sc.Text(), "\t", 4)
		for len(row) < 4 {
			row = append(row, "")
		}
		rows = append(rows, row)
	}
	require.NoError(t, sc.Err())
	return rows
}

func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the README examples need %s on PATH (CI's machine image has it): install it", tool)
	}
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	md := string(raw)
	d := startReadmeDemo(t)

	// One truth for URLs: the banner's server URL is SERVICENET_URL in
	// .data/demo.env, the root the README's examples put /v1/... after.
	m := regexp.MustCompile(`(?m)^  Server URL +(\S+)`).FindStringSubmatch(d.banner)
	require.NotNil(t, m, "the seed banner names the server URL:\n%s", d.banner)
	require.Equal(t, d.env["SERVICENET_URL"], m[1], "banner and .data/demo.env agree")
	require.NotRegexp(t, `(?m)^SERVICENET_URL='.*/v1'$`, readFile(t, filepath.Join(d.dir, ".data/demo.env")))

	problems, output := d.run(t, md)
	require.Empty(t, problems, "README.md's examples, as a reader runs them; their output:\n%s", output)

	// The test of the test: a scratch copy with one example broken fails,
	// naming the line. The copy ends with the broken example's block (the
	// later ones would only repeat the first run).
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"AStatusThatChanges", "serial=DEMO-0002", "serial=DEMO-9999", "expected 200, got 404"},
		{"AFieldThatChanges", ".decision.basis", ".decision.grounds", "jq printed null"},
		{"AStatedStatusThatIsWrong", "# 401", "# 403", "expected 403, got 401"},
	} {
		t.Run("Broken"+tc.name+"Fails", func(t *testing.T) {
			require.Contains(t, md, tc.old, "the example this case breaks is gone from README.md: pick another")
			broken := strings.Replace(md, tc.old, tc.new, 1)
			at := strings.Index(broken, tc.new)
			broken = broken[:at+strings.Index(broken[at:], "\n```\n")+5]
			problems, _ := d.run(t, broken)
			require.Contains(t, strings.Join(problems, "\n"), tc.want)
		})
	}
	t.Run("ACallWithoutAStatusFails", func(t *testing.T) {
		old := "| jq -c '.data[] | {seq, action, to_state}'   # 200"
		require.Contains(t, md, old)
		_, problems := parseReadme(strings.Replace(md, old, "| jq -c '.data[] | {seq, action, to_state}'", 1))
		require.Len(t, problems, 1)
		require.Contains(t, problems[0], "state the status")
	})
	t.Run("TwoCallsInOneCommandFail", func(t *testing.T) {
		_, problems := parseReadme("```sh\ncurl -s \"$SERVICENET_URL/v1/me\" && curl -s \"$SERVICENET_URL/v1/me\"   # 401\n```\n")
		require.Equal(t, []string{"README.md:2: one curl per command, so that each call can state its status"}, problems)
	})
	t.Run("AHardCodedURLFails", func(t *testing.T) {
		_, problems := parseReadme("<!-- readme-test: skip (not run) -->\n```sh\nmake run\n```\n\n```sh\ncurl -s http://localhost:8080/v1/me   # 401\n```\n")
		require.Len(t, problems, 1)
		require.Contains(t, problems[0], "README.md:7: address the server as $SERVICENET_URL/")
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
