package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
	"github.com/es-remote-exporter/es_remote_exporter/internal/demo"
)

// Demo timing: polls every 10s so changes show quickly; the flaky cluster is
// down 60s out of every 3 minutes.
const (
	demoPollInterval = 10 * time.Second
	demoFlapPeriod   = 3 * time.Minute
	demoFlapDown     = time.Minute
)

func runDemo(ctx context.Context, o *options, logger *slog.Logger, stdout io.Writer) int {
	dir, err := os.MkdirTemp("", "es_remote_exporter-demo-")
	if err != nil {
		logger.Error("creating a temporary directory", "err", err)
		return 1
	}
	defer os.RemoveAll(dir)
	topo, err := demo.Start(dir, demoPollInterval)
	if err != nil {
		logger.Error("starting the demo", "err", err)
		return 1
	}
	defer topo.Close()
	go topo.Flap(ctx, demoFlapPeriod, demoFlapDown, logger)
	go topo.Replicate(ctx, demoPollInterval)
	cfgFile, err := topo.WriteConfigFile(dir)
	if err != nil {
		logger.Error("writing the demo's configuration file", "err", err)
		return 1
	}

	fmt.Fprintf(stdout, `es_remote_exporter demo: %d simulated Elasticsearch clusters on 127.0.0.1
  berlin 7.17 (mid patch upgrade), paris 8.19 (hub), oslo 8.18 (down 1 minute in every 3,
  transport certificates expiring in 20 days), tokyo 9.1
  links: sniff and proxy mode, certificate and API-key auth; one deliberate mistake:
  tokyo (9.1) -> paris (8.19) connects but is not a supported version pair, and uses
  the certificate model 9.x deprecates
  setup mistakes: tokyo's link relies on roles paris lacks or grants in part, berlin-es02
  alone defines a link to oslo, paris-es01's elasticsearch.yml holds a value the cluster
  setting overrides
  replication: paris follows oslo's orders, lagging, and its follower of oslo's logs is
  paused

Open http://localhost%s/metrics and look for es_remote_link_connected and es_remote_link_reachable
(first poll within %s). Walk every link through the setup's four steps, in another terminal:

  %[4]s check --config.file %[5]s

(from a checkout: go run ./cmd/%[4]s check ...; in the container: docker exec <container>
/bin/%[4]s check ...). Stop with Ctrl-C.

`, len(topo.Config.Clusters), listenPort(o.listen), demoPollInterval, programName, cfgFile)
	cfg := topo.Config
	return serve(ctx, o, func() (*config.Config, error) { return cfg, nil }, logger)
}

// listenPort renders the first listen address for the "open this" hint;
// webFlagsOK has checked that it is host:port.
func listenPort(addrs []string) string {
	_, port, _ := net.SplitHostPort(addrs[0])
	return ":" + port
}
