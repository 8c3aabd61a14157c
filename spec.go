package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/urfave/cli/v2"
)

var specCommand = &cli.Command{
	Name:      "spec",
	Usage:     "create a new specification file",
	ArgsUsage: " ",
	Description: `The spec command creates the new specification file named "config.json" for
the bundle. Edit it to your needs; the annotation "dev.runx.isolation" picks the
isolation mode of the container.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory"},
		&cli.BoolFlag{Name: "rootless", Usage: "generate a configuration for a rootless container"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 0, true); err != nil {
			return err
		}
		spec := specconv.Example()
		if c.Bool("rootless") {
			specconv.ToRootless(spec)
		}
		path := specConfig
		if b := c.String("bundle"); b != "" {
			path = filepath.Join(b, specConfig)
		}
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("file %s exists: remove it first", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		data, err := json.MarshalIndent(spec, "", "\t")
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o666); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	},
}
