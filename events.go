package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/runx-dev/runx/isolation"
)

var eventsCommand = &cli.Command{
	Name:  "events",
	Usage: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(c *cli.Context) error {
		if err := checkArgs(c, 1, true); err != nil {
			return err
		}
		if c.Duration("interval") <= 0 {
			return fmt.Errorf("--interval: duration must be greater than 0")
		}
		ct, err := getContainer(c)
		if err != nil {
			return err
		}
		st, err := ct.State()
		if err != nil {
			return err
		}
		if st.Status == "stopped" {
			return fmt.Errorf("container with id %s is not running", ct.ID())
		}
		var mu sync.Mutex
		enc := json.NewEncoder(os.Stdout)
		emit := func(e *types.Event) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(e)
		}
		if c.Bool("stats") {
			s, err := ct.Stats()
			if err != nil {
				return err
			}
			emit(&types.Event{Type: "stats", ID: ct.ID(), Data: s})
			return nil
		}
		if oom, err := ct.OOMNotify(); err == nil && oom != nil {
			go func() {
				for range oom {
					emit(&types.Event{Type: "oom", ID: ct.ID()})
				}
			}()
		}
		// As runc's, the stream ends when the container is deleted: checked
		// every 100 ms, stats sent every --interval.
		tick := time.NewTicker(c.Duration("interval"))
		defer tick.Stop()
		poll := time.NewTicker(100 * time.Millisecond)
		defer poll.Stop()
		for {
			if s, err := ct.Stats(); err == nil {
				emit(&types.Event{Type: "stats", ID: ct.ID(), Data: s})
			} else if gone(c) {
				return nil
			} else if st, e := ct.State(); e != nil || st.Status != "stopped" {
				logrus.Warnf("events: stats of %s: %v", ct.ID(), err)
			}
		wait:
			for {
				select {
				case <-tick.C:
					break wait
				case <-poll.C:
					if gone(c) {
						return nil
					}
				}
			}
		}
	},
}

// gone reports whether the container named by the first argument was deleted.
func gone(c *cli.Context) bool {
	_, err := isolation.Load(c.String("root"), c.Args().First())
	return errors.Is(err, isolation.ErrNotExist)
}
