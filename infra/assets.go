package infra

import (
	"fmt"
	"os"
	"path/filepath"
)

// placeholderBootstrap is what a function runs when synth happened without
// `make build`: it fails every invocation, so a placeholder can never take
// traffic (the migrate trigger and the deploy-check hook fail first).
const placeholderBootstrap = "#!/bin/sh\necho 'placeholder asset: run make build before deploying' >&2\nexit 1\n"

// AssetDir returns the directory to deploy for a function: dist/<name> when
// it holds a built bootstrap, else (unless cfg.RequireBuiltAssets) a
// placeholder directory under the OS temp dir. The placeholder's content is
// fixed, so its asset hash and the synthesized template stay stable.
func AssetDir(cfg Config, name string) (dir string, placeholder bool, err error) {
	dist := cfg.DistDir
	if dist == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", false, err
		}
		dist = filepath.Join(root, "dist")
	}
	built := filepath.Join(dist, name)
	if fi, err := os.Stat(filepath.Join(built, "bootstrap")); err == nil && fi.Mode().IsRegular() {
		return built, false, nil
	}
	if cfg.RequireBuiltAssets {
		return "", false, fmt.Errorf("%s/bootstrap is missing: run make build first", built)
	}
	dir = filepath.Join(os.TempDir(), "telefonagent-placeholder-assets", name)
	// #nosec G301 -- the asset directory is zipped for Lambda, which runs bootstrap as another user.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	file := filepath.Join(dir, "bootstrap")
	// #nosec G304 -- file is our own placeholder path (temp dir + catalogued function name).
	if b, err := os.ReadFile(file); err != nil || string(b) != placeholderBootstrap {
		tmp := file + fmt.Sprintf(".%d.tmp", os.Getpid())
		// #nosec G306 -- bootstrap must be executable by the Lambda runtime's user (not a secret: a script that fails).
		if err := os.WriteFile(tmp, []byte(placeholderBootstrap), 0o755); err != nil {
			return "", false, err
		}
		if err := os.Rename(tmp, file); err != nil {
			return "", false, err
		}
	}
	// Fixed mode and mtime do not enter CDK's source hash, but keep them
	// tidy so a directory listing of cdk.out looks the same every time.
	_ = os.Chmod(file, 0o755) // #nosec G302 -- executable by the Lambda runtime's user, as above
	return dir, true, nil
}

// RepoRoot walks up from the working directory (infra/ under cdk, the
// package directory under go test) to the directory holding shared/catalog.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "shared", "catalog")); err == nil && fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the repository root (shared/catalog) above the working directory; set -c distDir=")
		}
		dir = parent
	}
}
