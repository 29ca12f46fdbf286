package bmc

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type nopClient struct{}

func (nopClient) SetPower(context.Context, PowerAction) error                  { return nil }
func (nopClient) PowerState(context.Context) (PowerState, error)               { return StateOn, nil }
func (nopClient) SetBootDevice(context.Context, BootDevice, BootOptions) error { return nil }
func (nopClient) Close() error                                                 { return nil }

func TestRegistry(t *testing.T) {
	var r Registry
	r.Register("ipmi", DriverFunc(func(context.Context, Target) (Client, error) { return nopClient{}, nil }))
	r.Register("Redfish", DriverFunc(func(context.Context, Target) (Client, error) { return nopClient{}, nil }))
	if got := strings.Join(r.Names(), ","); got != "ipmi,redfish" {
		t.Errorf("Names = %s", got)
	}
	if _, err := r.Open(t.Context(), "IPMI", Target{Node: "cn1"}); err != nil {
		t.Errorf("Open ipmi: %v", err)
	}
	for _, mgt := range []string{"hmc", ""} {
		_, err := r.Open(t.Context(), mgt, Target{Node: "cn1"})
		if !errors.Is(err, ErrUnknownMgt) || !strings.Contains(err.Error(), "ipmi, redfish") {
			t.Errorf("Open %q: %v", mgt, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering ipmi twice did not panic")
		}
	}()
	r.Register("ipmi", DriverFunc(nil))
}
