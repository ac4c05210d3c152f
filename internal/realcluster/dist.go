package realcluster

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	_ "embed" // the GET / plugin's source
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// The versions the harness runs. Each resolves on Maven Central as
// org.elasticsearch.distribution.integ-test-zip:elasticsearch:<v>:zip
// (checked 2026-12-05 with mvn dependency:get: 8.19.8, 9.2.0 and 7.17.29
// resolve; 9.2.2, 9.1.8 and 9.3.0 do not).
const (
	V8 = "8.19.8"
	V9 = "9.2.0"
	V7 = "7.17.29"
)

// Environment variables that move the harness's inputs. They do not start
// with config.EnvPrefix: the daemon reads every ES_REMOTE_EXPORTER_*
// variable as configuration and refuses the ones it does not know, so a
// harness variable left set in a shell would stop the exporter (and the
// command tests) from loading any configuration.
const (
	// EnvCache is the directory the unpacked distributions are kept in,
	// between runs. Default: /var/cache/es_remote_exporter/realcluster when
	// running as root (the nodes then run as nobody, who cannot enter
	// /root), else $XDG_CACHE_HOME/es_remote_exporter/realcluster.
	EnvCache = "REALCLUSTER_CACHE"
	// EnvJava17 and EnvJava25 override the JDKs: 7.17 and 8.19 run on 17,
	// 9.x needs 21 or later and runs on 25.
	EnvJava17 = "REALCLUSTER_JAVA17_HOME"
	EnvJava25 = "REALCLUSTER_JAVA25_HOME"
)

// rootInfoSource is the plugin that answers GET / on 8.x and 9.x, whose
// integ-test-zip lacks the rest-root module (rootplugin/RootInfoPlugin.java
// says why and what it is not).
//
//go:embed rootplugin/RootInfoPlugin.java
var rootInfoSource []byte

const rootInfoModule = "es-remote-exporter-root-info"

// Major returns the major version of v ("8.19.8" -> 8).
func Major(v string) int {
	var m int
	fmt.Sscanf(v, "%d.", &m)
	return m
}

// JavaHome is the JDK a version runs on (ES_JAVA_HOME of its nodes).
func JavaHome(version string) string {
	if Major(version) >= 9 {
		if h := os.Getenv(EnvJava25); h != "" {
			return h
		}
		return "/usr/lib/jvm/temurin-25-jdk-amd64"
	}
	if h := os.Getenv(EnvJava17); h != "" {
		return h
	}
	return "/usr/lib/jvm/java-17-openjdk-amd64"
}

// CacheDir is where distributions are unpacked (see EnvCache).
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return d, nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/es_remote_exporter/realcluster", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set %s: %w", EnvCache, err)
	}
	return filepath.Join(d, "es_remote_exporter", "realcluster"), nil
}

var distMu sync.Mutex

// othersCanEnter checks that every existing directory on the way to dir
// lets other users through: the nodes run as nobody, and a home they
// cannot reach fails only when a node starts, as a bare "permission
// denied" from exec.
func othersCanEnter(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the Elasticsearch nodes run as nobody, who cannot enter %s (mode %04o) on the way to the cache %s: "+
				"chmod o+x %s, or set %s to a directory every user can reach", d, fi.Mode().Perm(), abs, d, EnvCache)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// Distribution returns the home directory of an unpacked distribution of
// version, fetching it from Maven Central with mvn and unpacking it into the
// cache on first use. On 8.x and 9.x it adds the GET / module, compiled
// against the distribution's own jars with the JDK the version runs on.
func Distribution(version string) (string, error) {
	distMu.Lock()
	defer distMu.Unlock()
	if _, err := os.Stat(filepath.Join(JavaHome(version), "bin", "java")); err != nil {
		env := EnvJava17
		if Major(version) >= 9 {
			env = EnvJava25
		}
		return "", fmt.Errorf("Elasticsearch %s needs a JDK at %s (or set %s): %w", version, JavaHome(version), env, err)
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	if os.Geteuid() == 0 { // the nodes run as nobody (nodeUser)
		if err := othersCanEnter(cache); err != nil {
			return "", err
		}
	}
	// 8.x/9.x homes carry the harness module, so their name carries a
	// hash of its source: a changed plugin makes a new home.
	home := filepath.Join(cache, "elasticsearch-"+version)
	if Major(version) >= 8 {
		sum := sha256.Sum256(rootInfoSource)
		home += "+harness-" + hex.EncodeToString(sum[:4])
	}
	if _, err := os.Stat(filepath.Join(home, ".complete")); err == nil {
		return home, nil
	}
	if err := mkdirAllReadable(cache); err != nil {
		return "", err
	}
	lock, err := lockFile(filepath.Join(cache, ".lock"))
	if err != nil {
		return "", err
	}
	defer lock()
	if _, err := os.Stat(filepath.Join(home, ".complete")); err == nil {
		return home, nil // another test binary finished it while we waited
	}
	zipPath, err := fetchZip(cache, version)
	if err != nil {
		return "", err
	}
	staging, err := os.MkdirTemp(cache, ".unpack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staging)
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", err
	}
	if err := unzip(zipPath, staging); err != nil {
		return "", fmt.Errorf("unpack %s: %w", zipPath, err)
	}
	unpacked := filepath.Join(staging, "elasticsearch-"+version)
	if Major(version) >= 8 {
		if err := buildRootInfo(unpacked, version); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(unpacked, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(home) // an incomplete earlier attempt
	if err := os.Rename(unpacked, home); err != nil {
		return "", err
	}
	// Homes of this version with an older harness module are garbage.
	if old, _ := filepath.Glob(filepath.Join(cache, "elasticsearch-"+version+"+harness-*")); len(old) > 0 {
		for _, o := range old {
			if o != home {
				os.RemoveAll(o)
			}
		}
	}
	return home, nil
}

// fetchZip copies the distribution zip out of Maven (Central, through the
// machine's Maven configuration and its ~/.m2 cache) into cache/zips.
func fetchZip(cache, version string) (string, error) {
	dir := filepath.Join(cache, "zips")
	zipPath := filepath.Join(dir, "elasticsearch-"+version+".zip")
	if _, err := os.Stat(zipPath); err == nil {
		return zipPath, nil
	}
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return "", fmt.Errorf("mvn not found: install maven (.ci/run does): %w", err)
	}
	artifact := "org.elasticsearch.distribution.integ-test-zip:elasticsearch:" + version + ":zip"
	cmd := exec.Command(mvn, "-B", "-q", "dependency:copy", "-Dartifact="+artifact, "-DoutputDirectory="+dir)
	cmd.Dir = cache // no pom.xml here: a standalone invocation
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn dependency:copy %s: %w\n%s", artifact, err, tail(out, 2000))
	}
	if _, err := os.Stat(zipPath); err != nil {
		return "", fmt.Errorf("mvn dependency:copy %s left no %s: %w", artifact, zipPath, err)
	}
	return zipPath, nil
}

// unzip extracts src into dst, keeping the executable bits and making
// everything readable by the user the nodes run as.
func unzip(src, dst string) error {
	r, err := zip.OpenReader(src)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, f := range r.File {
		p := filepath.Join(dst, f.Name)
		if !strings.HasPrefix(p, filepath.Clean(dst)+string(os.PathSeparator)) {
			return fmt.Errorf("entry %q escapes the directory", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := mkdirAllReadable(p); err != nil {
				return err
			}
			continue
		}
		if err := mkdirAllReadable(filepath.Dir(p)); err != nil {
			return err
		}
		mode := f.Mode().Perm() | 0o444
		if mode&0o100 != 0 {
			mode |= 0o555
		}
		if err := extract(f, p, mode); err != nil {
			return err
		}
	}
	return nil
}

func extract(f *zip.File, p string, mode os.FileMode) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, rc); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func mkdirAllReadable(p string) error {
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	return os.Chmod(p, 0o755)
}

// buildRootInfo compiles the GET / plugin against the distribution's lib/
// and installs it as a module (modules/<name>/ with its jar and
// plugin-descriptor.properties, the layout of the distribution's own
// modules, e.g. modules/transport-netty4).
func buildRootInfo(home, version string) error {
	jdk := JavaHome(version)
	work, err := os.MkdirTemp("", "rootinfo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "RootInfoPlugin.java")
	if err := os.WriteFile(src, rootInfoSource, 0o644); err != nil {
		return err
	}
	jars, err := filepath.Glob(filepath.Join(home, "lib", "*.jar"))
	if err != nil || len(jars) == 0 {
		return fmt.Errorf("no jars in %s/lib: %v", home, err)
	}
	classes := filepath.Join(work, "classes")
	javac := exec.Command(filepath.Join(jdk, "bin", "javac"), "-nowarn", "--release", "17", "-proc:none",
		"-cp", strings.Join(jars, string(os.PathListSeparator)), "-d", classes, src)
	if out, err := javac.CombinedOutput(); err != nil {
		return fmt.Errorf("compile the GET / plugin for %s with %s: %w\n%s", version, jdk, err, tail(out, 3000))
	}
	mod := filepath.Join(home, "modules", rootInfoModule)
	if err := mkdirAllReadable(mod); err != nil {
		return err
	}
	jar := exec.Command(filepath.Join(jdk, "bin", "jar"), "cf", filepath.Join(mod, rootInfoModule+".jar"), "-C", classes, ".")
	if out, err := jar.CombinedOutput(); err != nil {
		return fmt.Errorf("jar the GET / plugin: %w\n%s", err, tail(out, 2000))
	}
	if err := os.Chmod(filepath.Join(mod, rootInfoModule+".jar"), 0o644); err != nil {
		return err
	}
	desc := fmt.Sprintf("description=GET / for the es_remote_exporter test harness (not Elasticsearch's rest-root)\n"+
		"version=%s\nname=%s\nclassname=esremoteexporter.rootinfo.RootInfoPlugin\njava.version=17\nelasticsearch.version=%s\n",
		version, rootInfoModule, version)
	return os.WriteFile(filepath.Join(mod, "plugin-descriptor.properties"), []byte(desc), 0o644)
}

func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

var errNotLinux = errors.New("realcluster: real nodes run on Linux only")
