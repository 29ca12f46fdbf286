package ipmi

import (
	"context"
	"fmt"
	"strings"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/app"
	"github.com/bougou/go-ipmi/pkg/types"

	"drover.dev/drover/internal/bmc"
)

// Inventory implements bmc.Inventorier (rinv): the product, chassis and
// board areas of FRU device 0, then Get Device ID and the system GUID,
// named as xCAT's ipmi plugin names them ("System Description", "BMC
// Firmware", ...). Empty FRU fields are left out; a BMC without FRU 0
// still reports its device ID.
func (c *Client) Inventory(ctx context.Context) ([]bmc.Fact, error) {
	var facts []bmc.Fact
	err := c.call(ctx, "inventory", func(ctx context.Context, gc *client.Client) error {
		id, err := gc.GetDeviceID(ctx)
		if err != nil {
			return fmt.Errorf("get device id: %w", err)
		}
		fru, err := gc.GetFRU(ctx, 0, "")
		if err != nil {
			if _, ok := types.IsResponseError(err); !ok {
				return fmt.Errorf("read fru 0: %w", err)
			}
			fru = nil // the BMC answered: no readable FRU 0
		}
		var guid *app.GetSystemGUIDResponse
		if g, err := gc.GetSystemGUID(ctx); err == nil {
			guid = g
		} else if _, ok := types.IsResponseError(err); !ok {
			return fmt.Errorf("get system guid: %w", err)
		}
		facts = inventoryFacts(fru, id, guid)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return facts, nil
}

// inventoryFacts orders the facts like xCAT's rinv for ipmi.
func inventoryFacts(fru *types.FRU, id *app.GetDeviceIDResponse, guid *app.GetSystemGUIDResponse) []bmc.Fact {
	var out []bmc.Fact
	add := func(name string, tl types.TypeLength, raw []byte) {
		v := strings.TrimSpace(strings.TrimRight(types.FRUFieldString(tl, raw), "\x00"))
		if v != "" {
			out = append(out, bmc.Fact{Name: name, Value: v})
		}
	}
	if fru != nil && fru.Present() {
		if p := fru.ProductInfoArea; p != nil {
			add("System Manufacturer", p.ManufacturerTypeLength, p.Manufacturer)
			add("System Description", p.NameTypeLength, p.Name)
			add("System Model/MTM", p.PartModelTypeLength, p.PartModel)
			add("System Revision", p.VersionTypeLength, p.Version)
			add("System Serial Number", p.SerialNumberTypeLength, p.SerialNumber)
			add("System Asset Number", p.AssetTagTypeLength, p.AssetTag)
		}
		if ch := fru.ChassisInfoArea; ch != nil {
			add("Chassis Serial Number", ch.SerialNumberTypeLength, ch.SerialNumber)
			add("Chassis Part Number", ch.PartNumberTypeLength, ch.PartNumber)
		}
		if b := fru.BoardInfoArea; b != nil {
			add("Board manufacturer", b.ManufacturerTypeLength, b.Manufacturer)
			add("Board Description", b.ProductNameTypeLength, b.ProductName)
			add("Board Serial Number", b.SerialNumberTypeLength, b.SerialNumber)
			add("Board Model Number", b.PartNumberTypeLength, b.PartNumber)
		}
	}
	if id != nil {
		out = append(out,
			bmc.Fact{Name: "BMC Firmware", Value: fmt.Sprintf("%d.%02d", id.MajorFirmwareRevision, id.MinorFirmwareRevision)},
			bmc.Fact{Name: "Manufacturer ID", Value: fmt.Sprint(id.ManufacturerID)},
			bmc.Fact{Name: "Product ID", Value: fmt.Sprint(id.ProductID)},
			bmc.Fact{Name: "Device ID", Value: fmt.Sprint(id.DeviceID)},
		)
	}
	if guid != nil {
		if u, err := types.ParseGUID(guid.GUID[:], types.GUIDModeSMBIOS); err == nil {
			out = append(out, bmc.Fact{Name: "UUID/GUID", Value: strings.ToUpper(u.String())})
		}
	}
	return out
}
