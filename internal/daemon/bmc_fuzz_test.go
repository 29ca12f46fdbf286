package daemon

import "testing"

// FuzzContainerSpec: any node attributes give a spec or an error, never a
// panic, and a spec always names its image.
func FuzzContainerSpec(f *testing.F) {
	f.Add("img", "0.5", "64", "lab,other", "198.18.5.21", "52:54:00:18:05:21", "/srv:/data:ro,vol:/x", "restart=always;env=A=B")
	f.Add("", "x", "-1", "", "bad", "zz", "", "what=ever")
	f.Fuzz(func(t *testing.T, image, cpus, mem, nics, ip, mac, storage, other string) {
		s, err := containerSpec("ct1", map[string]string{"vmimage": image, "vmcpus": cpus, "vmmemory": mem,
			"vmnics": nics, "ip": ip, "mac": mac, "vmstorage": storage, "vmothersetting": other})
		if err == nil && s.Image == "" {
			t.Fatalf("spec without an image: %+v", s)
		}
	})
}
