// Command es_remote_exporter watches Elasticsearch remote cluster links and
// exports them to Prometheus. Subcommands: (none) serve, demo, check,
// compat, plan-upgrade, version, help.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"github.com/spf13/pflag"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/daemon"
)

const programName = daemon.Name

// defaultListenAddress: the exporter range 9100-9999 of Prometheus' default
// port allocations is fully taken, so the default lies just outside it.
const defaultListenAddress = ":10114"

// Flag names the commands share.
const (
	flagConfigCheck     = "config.check"
	flagListenAddress   = "web.listen-address"
	flagWebConfigFile   = "web.config.file"
	flagEnableLifecycle = "web.enable-lifecycle"
	flagLogLevel        = "log.level"
	flagLogFormat       = "log.format"
	flagOutput          = "output"
	flagVersion         = "version"
	flagMatrix          = "matrix"
	flagHelp            = "help"
)

// options are the command line, parsed.
type options struct {
	fs              *pflag.FlagSet // every flag of every command
	cmd             *command
	configFile      string
	configCheck     bool
	listen          []string
	webConfigFile   string
	enableLifecycle bool
	logLevel        *promslog.Level
	logFormat       *promslog.Format
	showVersion     bool
	output          string
	matrix          bool
	help            bool
	args            []string
}

// command is one thing the program does: its flags (names in options.fs)
// and its help text.
type command struct {
	name     string // "" for the daemon
	synopsis string // after the program name
	summary  string // one line, for the overview
	about    string // what help says beyond the summary
	flags    []string
	maxArgs  int
}

var (
	configFlags = []string{config.FlagConfigFile, config.FlagPollInterval, config.FlagTimeout, config.FlagMaxConcurrency}
	webFlags    = []string{flagListenAddress, flagWebConfigFile, flagEnableLifecycle}
	logFlags    = []string{flagLogLevel, flagLogFormat}
)

var commands = []*command{
	{
		name: "", synopsis: "[flags]", summary: "watch the configured clusters and serve /metrics",
		about: `Polls every configured cluster on its own schedule and serves what it saw on /metrics.
SIGHUP reloads the configuration (so does POST /-/reload with --web.enable-lifecycle).
Configuration precedence: defaults < --config.file < ES_REMOTE_EXPORTER_* environment < flags
set on the command line. See docs/configuration.md for every key.`,
		flags: slices.Concat(configFlags, []string{flagConfigCheck}, webFlags, logFlags, []string{flagVersion}),
	},
	{
		name: "demo", synopsis: "demo [flags]", summary: "simulated clusters and their metrics (try this first)",
		about: `Starts simulated Elasticsearch clusters on 127.0.0.1 with working and broken links, and the
daemon watching them. It builds its own configuration and prints the check command to try.`,
		flags: slices.Concat(webFlags, logFlags),
	},
	{
		name: "check", synopsis: "check [flags]", summary: "poll once; walk every link through the four setup steps",
		about: `Polls every configured cluster and walks every link through the four steps of Elastic's
procedure (prerequisites, trust, connect, roles), each finding with its evidence and fix.
Exit 0 nothing failed, 1 something did, 2 bad configuration or usage. The report goes to
stdout; the log stays quiet (errors only) unless --log.level is given.`,
		flags: slices.Concat(configFlags, []string{flagOutput}, logFlags),
	},
	{
		name: "compat", synopsis: "compat LOCAL REMOTE | compat --matrix", summary: "judge a version pair: exit 0 compatible, 1 not, 2 unknown",
		about: `Prints one line: the verdict on a local -> remote version pair and the rule that decided it.
Exit 0 compatible, 1 incompatible, 2 unknown or invalid input. Versions are like 8.19.2,
9.1.0-SNAPSHOT or 8.18. With --matrix, prints the whole table.`,
		flags: []string{flagMatrix}, maxArgs: 2,
	},
	{
		name: "plan-upgrade", synopsis: "plan-upgrade [flags] CLUSTER VERSION", summary: "poll once; list the links an upgrade of CLUSTER would break",
		about: `Polls every configured cluster once and judges every link from or to CLUSTER as if all its
nodes ran VERSION: BREAKS, OK, ALREADY (incompatible before and after) or UNKNOWN.
Exit 0 nothing breaks, 1 something does, 2 bad usage (also a downgrade, or an upgrade
Elasticsearch does not support in one step). The log stays quiet unless --log.level is given.`,
		flags: slices.Concat(configFlags, logFlags), maxArgs: 2,
	},
	{name: "version", synopsis: "version", summary: "print version information"},
	{name: "help", synopsis: "help [COMMAND]", summary: "print the usage of a command", maxArgs: 1},
}

// commandNames lists the commands for messages: "demo, check, ... and help".
func commandNames() string {
	var names []string
	for _, c := range commands[1:] {
		names = append(names, c.name)
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func newFlagSet() *options {
	o := &options{logLevel: promslog.NewLevel(), logFormat: promslog.NewFormat()}
	_ = o.logLevel.Set("info")
	_ = o.logFormat.Set("logfmt")
	fs := pflag.NewFlagSet(programName, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are worded by run
	fs.Usage = func() {}
	fs.SortFlags = false
	config.RegisterFlags(fs)
	fs.BoolVar(&o.configCheck, flagConfigCheck, false, "Validate the configuration (file, environment and flags), print the result and exit 0 when valid, 1 when not.")
	fs.StringSliceVar(&o.listen, flagListenAddress, []string{defaultListenAddress}, "Addresses to serve /metrics and the web UI on; repeat the flag for several.")
	fs.StringVar(&o.webConfigFile, flagWebConfigFile, "", "Path to an exporter-toolkit web configuration file enabling TLS and/or basic auth on the exporter's own HTTP server.")
	fs.BoolVar(&o.enableLifecycle, flagEnableLifecycle, false, "Enable POST/PUT /-/reload. Without it they answer 403; SIGHUP always reloads.")
	fs.Var(levelFlag{o.logLevel}, flagLogLevel, "Only log messages with this severity or above: debug, info, warn, error.")
	fs.Var(formatFlag{o.logFormat}, flagLogFormat, "Log format: logfmt or json.")
	fs.StringVar(&o.output, flagOutput, "text", "Report format of the check command: text or json.")
	fs.BoolVar(&o.showVersion, flagVersion, false, "Print version information and exit.")
	fs.BoolVar(&o.matrix, flagMatrix, false, "Print the whole compatibility table as the exporter understands it.")
	fs.BoolVarP(&o.help, flagHelp, "h", false, "Print this help.")
	o.fs = fs
	return o
}

// levelFlag and formatFlag adapt promslog's flag values to pflag, with
// errors that list the valid values.
type levelFlag struct{ *promslog.Level }

func (levelFlag) Type() string { return "level" }
func (l levelFlag) Set(s string) error {
	if l.Level.Set(s) != nil {
		return fmt.Errorf("must be one of debug, info, warn, error")
	}
	return nil
}

type formatFlag struct{ *promslog.Format }

func (formatFlag) Type() string { return "format" }
func (f formatFlag) Set(s string) error {
	if f.Format.Set(s) != nil {
		return fmt.Errorf("must be logfmt or json")
	}
	return nil
}

func main() {
	daemon.ApplyRuntimeDefaults()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// findCommand returns the command named on the command line, wherever it
// stands among the flags (`--log.level=debug demo` and `demo
// --log.level=debug` are the same), and the arguments without it.
func findCommand(fs *pflag.FlagSet, argv []string) (string, []string) {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a, slices.Concat(argv[:i], argv[i+1:])
		}
		if strings.Contains(a, "=") {
			continue
		}
		var f *pflag.Flag
		if strings.HasPrefix(a, "--") {
			f = fs.Lookup(a[2:])
		} else if len(a) == 2 {
			f = fs.ShorthandLookup(a[1:])
		}
		if f != nil && f.NoOptDefVal == "" {
			i++ // the flag's value
		}
	}
	return "", argv
}

// run is main without the process: it returns the exit code.
func run(argv []string, stdout, stderr io.Writer) int {
	o := newFlagSet()
	name, rest := findCommand(o.fs, argv)
	o.cmd = lookupCommand(name)
	if o.cmd == nil {
		// An unknown flag's value looks like a command: name the flag first.
		if err := o.fs.Parse(argv); err != nil {
			o.cmd = lookupCommand("")
			fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", programName, flagError(o, err), programName)
			return 2
		}
		fmt.Fprintf(stderr, "%s: unknown command %q; commands are %s\n", programName, name, commandNames())
		return 2
	}
	usageHint := fmt.Sprintf("Run '%s help %s' for usage.", programName, o.cmd.name)
	if o.cmd.name == "" {
		usageHint = fmt.Sprintf("Run '%s --help' for usage.", programName)
	}
	if err := o.fs.Parse(rest); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n%s\n", programName, flagError(o, err), usageHint)
		return 2
	}
	o.args = o.fs.Args()
	if o.help {
		printUsage(stdout, o.cmd)
		return 0
	}
	// Flags a command would silently ignore are mistakes: say so.
	var misused []string
	o.fs.Visit(func(f *pflag.Flag) {
		if !slices.Contains(o.cmd.flags, f.Name) {
			misused = append(misused, f.Name)
		}
	})
	if len(misused) > 0 {
		fmt.Fprintf(stderr, "%s: --%s does not apply to %s: %s\n%s\n", programName, misused[0], describe(o.cmd), whyNot(misused[0], o.cmd), usageHint)
		return 2
	}
	if len(o.args) > o.cmd.maxArgs {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n%s\n", programName, o.args[o.cmd.maxArgs], usageHint)
		return 2
	}
	o.configFile, _ = o.fs.GetString(config.FlagConfigFile)

	switch o.cmd.name {
	case "help":
		if len(o.args) == 0 {
			printUsage(stdout, lookupCommand(""))
			return 0
		}
		c := lookupCommand(o.args[0])
		if c == nil || c.name == "" {
			fmt.Fprintf(stderr, "%s help: unknown command %q; commands are %s\n", programName, o.args[0], commandNames())
			return 2
		}
		printUsage(stdout, c)
		return 0
	case "version":
		fmt.Fprintln(stdout, version.Print(programName))
		return 0
	case "compat":
		return runCompat(o.args, o.matrix, stdout, stderr)
	}
	if o.showVersion {
		fmt.Fprintln(stdout, version.Print(programName))
		return 0
	}

	// The one-shot commands print a report; the log lines the daemon
	// writes for each failing check would repeat its findings on stderr.
	if oneShot := o.cmd.name == "check" || o.cmd.name == "plan-upgrade"; oneShot && !o.fs.Changed(flagLogLevel) {
		_ = o.logLevel.Set("error")
	}
	logger := promslog.New(&promslog.Config{Level: o.logLevel, Format: o.logFormat, Writer: stderr})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	load := func() (*config.Config, error) {
		return config.Load(config.LoadOptions{File: o.configFile, Environ: os.Environ(), Flags: o.fs})
	}
	switch o.cmd.name {
	case "plan-upgrade":
		return runPlanUpgrade(ctx, load, o.args, logger, stdout, stderr)
	case "check":
		return runCheck(ctx, load, o.output, time.Now, logger, stdout, stderr)
	case "demo":
		if !webFlagsOK(o, logger) {
			return 2
		}
		return runDemo(ctx, o, logger, stdout)
	}
	if o.configCheck {
		return checkConfig(load, stdout, stderr)
	}
	if !webFlagsOK(o, logger) {
		return 2
	}
	return serve(ctx, o, load, logger)
}

// flagError words a parse error; an unknown flag gets the nearest flag of
// the command, if there is one close enough.
func flagError(o *options, err error) string {
	msg := err.Error()
	name, unknown := strings.CutPrefix(msg, "unknown flag: --")
	if !unknown {
		return msg
	}
	var all []string
	o.fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != flagHelp {
			all = append(all, f.Name)
		}
	})
	own, _ := config.Suggest(name, o.cmd.flags)
	other, _ := config.Suggest(name, all)
	// The command's own flag, unless another is closer to what was typed.
	switch best, _ := config.Suggest(name, slices.DeleteFunc([]string{own, other}, func(s string) bool { return s == "" })); {
	case best == "":
		return msg
	case slices.Contains(o.cmd.flags, best):
		return fmt.Sprintf("%s; did you mean --%s?", msg, best)
	default:
		return fmt.Sprintf("%s; did you mean --%s? (it does not apply to %s, though)", msg, best, describe(o.cmd))
	}
}

// describe names a command in messages.
func describe(c *command) string {
	if c.name == "" {
		return "the daemon (no command)"
	}
	return "the " + c.name + " command"
}

// whyNot says why a flag does not apply to a command, and what to do.
func whyNot(flag string, c *command) string {
	switch {
	case flag == flagOutput:
		return "only the check command writes a report"
	case flag == flagConfigCheck:
		return "it validates the configuration of the daemon (no command)"
	case flag == flagVersion:
		return fmt.Sprintf("run '%s version' on its own", programName)
	case flag == flagMatrix:
		return "it belongs to the compat command"
	case c.name == "demo" && slices.Contains(configFlags, flag):
		return "the demo builds its own configuration (and writes it to a file, see its banner)"
	case c.name == "version" || c.name == "help" || c.name == "compat":
		return "it takes no such flag"
	case slices.Contains(webFlags, flag):
		return "only the daemon and the demo serve HTTP"
	}
	return "see its help"
}

// printUsage writes a command's help: synopsis, what it does and the flags
// it takes, nothing else. The overview (no command) lists every command.
func printUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: %s %s\n\n%s.\n", programName, c.synopsis, upperFirst(c.summary))
	if c.about != "" {
		fmt.Fprintf(w, "\n%s\n", c.about)
	}
	if c.name == "" {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, sub := range commands[1:] {
			fmt.Fprintf(w, "  %-42s %s\n", sub.synopsis, sub.summary)
		}
		fmt.Fprintf(w, "Run '%s help COMMAND' for a command's flags.\n", programName)
	}
	if len(c.flags) > 0 {
		all := newFlagSet().fs
		own := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		own.SortFlags = false
		for _, name := range c.flags {
			own.AddFlag(all.Lookup(name))
		}
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsages())
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func checkConfig(load func() (*config.Config, error), stdout, stderr io.Writer) int {
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "configuration is invalid:\n%s\n", indent(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "configuration is valid: %d cluster(s)\n", len(cfg.Clusters))
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
