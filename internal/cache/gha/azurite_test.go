package gha

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Azurite's development account; the key is public, the same in every install.
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteBinary finds azurite-blob: $AZURITE_BLOB, or what hack/azurite.sh installs
// (it reuses an earlier install). In -short mode the test is skipped; otherwise no
// Azurite is a failure, so CI cannot pass without running the v2 tests.
func azuriteBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Azurite (npm); skipped in -short mode")
	}
	if bin := os.Getenv("AZURITE_BLOB"); bin != "" {
		return bin
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "hack", "azurite.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("installing Azurite with %s: %v\n%s", script, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

var listenRE = regexp.MustCompile(`successfully listens on (http://127\.0\.0\.1:\d+)`)

// startAzurite runs Azurite's blob service on a free loopback port, in memory, for
// the test's lifetime, and returns its endpoint (http://127.0.0.1:PORT).
func startAzurite(t *testing.T) string {
	t.Helper()
	bin := azuriteBinary(t)
	cmd := exec.Command(bin,
		"--disableTelemetry",
		"--blobHost", "127.0.0.1",
		"--blobPort", "0", // Azurite prints the port it got
		"--inMemoryPersistence",
		"--extentMemoryLimit", "256",
		"--skipApiVersionCheck", // the Azure SDK may be newer than Azurite
		"--loose",
		"--silent",
	)
	cmd.Dir = t.TempDir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		close(found)
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case endpoint, ok := <-found:
		if !ok {
			t.Fatalf("Azurite exited without listening: %s", stderr.Bytes())
		}
		return endpoint
	case <-time.After(60 * time.Second):
		t.Fatalf("Azurite did not listen within 60s: %s", stderr.Bytes())
	}
	return ""
}
