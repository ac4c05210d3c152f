// Command es_remote_exporter watches Elasticsearch remote cluster links and
// exports them to Prometheus. Subcommands: (none) serve, demo, check,
// compat, plan-upgrade, version.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// options are the command line, parsed.
type options struct {
	fs            *pflag.FlagSet
	configFile    string
	configCheck   bool
	listen        []string
	webConfigFile string
	logLevel      *promslog.Level
	logFormat     *promslog.Format
	showVersion   bool
	output        string
	args          []string
}

func newFlagSet(out io.Writer) *options {
	o := &options{logLevel: promslog.NewLevel(), logFormat: promslog.NewFormat()}
	_ = o.logLevel.Set("info")
	_ = o.logFormat.Set("logfmt")
	fs := pflag.NewFlagSet(programName, pflag.ContinueOnError)
	fs.SetOutput(out)
	fs.SortFlags = false
	config.RegisterFlags(fs)
	fs.BoolVar(&o.configCheck, "config.check", false, "Validate the configuration (file, environment and flags), print the result and exit 0 when valid, 1 when not.")
	fs.StringSliceVar(&o.listen, "web.listen-address", []string{defaultListenAddress}, "Addresses to serve /metrics and the web UI on; repeat the flag for several.")
	fs.StringVar(&o.webConfigFile, "web.config.file", "", "Path to an exporter-toolkit web configuration file enabling TLS and/or basic auth on the exporter's own HTTP server.")
	fs.Var(levelFlag{o.logLevel}, "log.level", "Only log messages with this severity or above: debug, info, warn, error.")
	fs.Var(formatFlag{o.logFormat}, "log.format", "Log format: logfmt or json.")
	fs.StringVar(&o.output, "output", "text", "Report format of the check command: text or json.")
	fs.BoolVar(&o.showVersion, "version", false, "Print version information and exit.")
	fs.Usage = func() {
		fmt.Fprintf(out, `Usage:
  %[1]s [flags]                        watch the configured clusters and serve /metrics
  %[1]s demo [flags]                   simulated clusters and their metrics (try this first)
  %[1]s compat LOCAL REMOTE            judge a version pair: exit 0 compatible, 1 not, 2 unknown
  %[1]s compat --matrix                print the compatibility table
  %[1]s check [flags]                  poll once; walk every link through the spec's four steps:
                                                    exit 0 nothing failed, 1 something did, 2 bad configuration
  %[1]s plan-upgrade [flags] CLUSTER VERSION
                                                    poll once; list the links an upgrade of CLUSTER would break
  %[1]s version                        print version information

Configuration precedence: defaults < --config.file < ES_REMOTE_EXPORTER_* environment < flags set on
the command line. See docs/configuration.md for every key.

Flags:
`, programName)
		fs.PrintDefaults()
	}
	o.fs = fs
	return o
}

// levelFlag and formatFlag adapt promslog's flag values to pflag.
type levelFlag struct{ *promslog.Level }

func (levelFlag) Type() string { return "level" }

type formatFlag struct{ *promslog.Format }

func (formatFlag) Type() string { return "format" }

func init() {
	// Release builds set the version with -ldflags (see the Dockerfile).
	if version.Version == "" {
		version.Version = "0.1.0-dev"
	}
}

func main() {
	daemon.ApplyRuntimeDefaults()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(argv []string, stdout, stderr io.Writer) int {
	o := newFlagSet(stderr)
	cmd := ""
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "-") {
		cmd, argv = argv[0], argv[1:]
	}
	if cmd == "compat" {
		return runCompat(argv, stdout, stderr)
	}
	if err := o.fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", programName, err, programName)
		return 2
	}
	o.configFile, _ = o.fs.GetString("config.file")
	o.args = o.fs.Args()
	if o.showVersion || cmd == "version" {
		fmt.Fprintln(stdout, version.Print(programName))
		return 0
	}
	if len(o.args) > 0 && cmd != "plan-upgrade" {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\nRun '%s --help' for usage.\n", programName, o.args[0], programName)
		return 2
	}
	// Flags a command would silently ignore are mistakes: say so.
	for _, misuse := range []struct {
		flag string
		bad  bool
		why  string
	}{
		{"output", cmd != "check", "only the check command writes a report"},
		{"config.check", cmd != "", "it validates the configuration of the daemon (no command)"},
		{"config.file", cmd == "demo", "the demo builds its own configuration (and writes it to a file, see its banner)"},
	} {
		if misuse.bad && o.fs.Changed(misuse.flag) {
			fmt.Fprintf(stderr, "%s: --%s does not apply here: %s\n", programName, misuse.flag, misuse.why)
			return 2
		}
	}
	logger := promslog.New(&promslog.Config{Level: o.logLevel, Format: o.logFormat, Writer: stderr})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	load := func() (*config.Config, error) {
		return config.Load(config.LoadOptions{File: o.configFile, Environ: os.Environ(), Flags: o.fs})
	}
	switch cmd {
	case "plan-upgrade":
		return runPlanUpgrade(ctx, load, o.args, logger, stdout, stderr)
	case "check":
		return runCheck(ctx, load, o.output, time.Now, logger, stdout, stderr)
	case "":
		if o.configCheck {
			return checkConfig(load, stdout, stderr)
		}
		return serve(ctx, o, load, logger)
	case "demo":
		return runDemo(ctx, o, logger, stdout)
	default:
		fmt.Fprintf(stderr, "%s: unknown command %q; commands are demo, check, compat, plan-upgrade and version\n", programName, cmd)
		return 2
	}
}

func checkConfig(load func() (*config.Config, error), stdout, stderr io.Writer) int {
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "configuration is invalid:\n%s\n", indent(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "configuration is valid: %d cluster(s)\n", len(cfg.Clusters))
	return 0
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
