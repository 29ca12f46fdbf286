// Package discoveryimage builds drover's discovery environment: a kernel
// (from a Debian kernel package file or an unpacked kernel directory) and a
// gzip-compressed newc initramfs whose /init is drover-agent, with the NIC
// and IPMI driver modules it needs, uncompressed and listed in dependency
// order in /lib/modules/load.order, the image version in /etc/drover/version
// and optional SSH debug credentials and busybox.
//
// Module dependencies come from each module's ELF .modinfo section
// (depends=), since a kernel package has no modules.dep; built-in modules
// (modules.builtin) satisfy dependencies. The initramfs is reproducible:
// entries are sorted, inode numbers sequential and every time stamp fixed.
package discoveryimage
