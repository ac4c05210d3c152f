package demo

import (
	"reflect"
	"testing"
	"time"

	"github.com/es-remote-exporter/es_remote_exporter/config"
)

// TestConfigFileRoundTrips loads the file WriteConfigFile writes and wants
// back the demo's configuration: a key the demo sets and the file forgets
// would make `check` on the demo see another setup than the demo serves.
func TestConfigFileRoundTrips(t *testing.T) {
	topo, err := Start(t.TempDir(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	path, err := topo.WriteConfigFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(config.LoadOptions{File: path})
	if err != nil {
		t.Fatalf("the demo's configuration file does not load: %v", err)
	}
	for i := range got.Clusters {
		// The file names where the secrets are; the demo holds them inline.
		got.Clusters[i].PasswordFile, got.Clusters[i].APIKeyFile = "", ""
	}
	if !reflect.DeepEqual(got, topo.Config) {
		t.Errorf("the file loads as\n%+v\nbut the demo runs\n%+v", got, topo.Config)
	}
}
