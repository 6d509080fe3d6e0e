package remote

import (
	"fmt"
	"time"
)

// missedMax is how many keepalive intervals may pass without an answer,
// as OpenSSH's ServerAliveCountMax (default 3).
const missedMax = 3

// keepalive sends keepalive@openssh.com every interval, as OpenSSH's
// ServerAliveInterval does, and closes the connection once missedMax
// intervals pass without an answer, so calls blocked on a dead link (a
// stopped instance, a cut network: TCP alone would wait for many minutes)
// return. Any answer counts, failure included: sshd answers this request,
// which it does not know, with failure.
func (c *Client) keepalive(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	answered := make(chan struct{}, 1)
	pending, missed := false, 0
	for {
		select {
		case <-c.closed:
			return
		case <-answered:
			pending, missed = false, 0
		case <-tick.C:
			if !pending {
				pending = true
				go c.ping(answered)
				continue
			}
			if missed++; missed >= missedMax {
				c.giveUp(time.Duration(missed) * every)
				return
			}
		}
	}
}

// ping sends one keepalive request and reports its answer.
func (c *Client) ping(answered chan<- struct{}) {
	if _, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil); err != nil {
		return // the connection is gone; its users see that themselves
	}
	select {
	case answered <- struct{}{}:
	case <-c.closed:
	}
}

// giveUp closes a connection whose node stopped answering.
func (c *Client) giveUp(silent time.Duration) {
	err := fmt.Errorf("%w: no answer to keepalives for %s", ErrConnectionLost, silent)
	c.setLost(err)
	c.log("ssh %s: %v; closing the connection", c.addr, err)
	_ = c.conn.Close()
}
