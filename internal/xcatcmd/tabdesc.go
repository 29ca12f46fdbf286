package xcatcmd

// tableDescription returns xCAT's one-line description of a table (the
// table_desc of Schema.pm as rendered in xcatdb(5)), or "".
func tableDescription(table string) string {
	switch table {
	case "auditlog":
		return "Audit Data log."
	case "bootparams":
		return "Current boot settings to be sent to systems attempting network boot for deployment, stateless, or other reasons.  Mostly automatically manipulated by xCAT."
	case "boottarget":
		return "Specify non-standard initrd, kernel, and parameters that should be used for a given profile."
	case "cfgmgt":
		return "Configuration management data for nodes used by non-xCAT osimage management services to install and configure software on a node."
	case "chain":
		return "Controls what operations are done (and it what order) when a node is discovered and deployed."
	case "deps":
		return "Describes dependencies some nodes have on others.  This can be used, e.g., by rpower -d to power nodes on or off in the correct order."
	case "discoverydata":
		return "Discovery data which sent from genesis."
	case "domain":
		return "Mapping of nodes to domain attributes"
	case "eventlog":
		return "Stores the events occurred."
	case "firmware":
		return "Maps node to firmware values to be used for setup at node discovery or later"
	case "hosts":
		return "IP addresses and hostnames of nodes.  This info is optional and is only used to populate /etc/hosts and DNS via makehosts and makedns.  Using regular expressions in this table can be a quick way to populate /etc/hosts."
	case "hwinv":
		return "The hareware inventory for the node."
	case "hypervisor":
		return "Hypervisor parameters"
	case "ipmi":
		return "Settings for nodes that are controlled by an on-board BMC via IPMI."
	case "iscsi":
		return "Contains settings that control how to boot a node from an iSCSI target"
	case "kit":
		return "This table stores all kits added to the xCAT cluster."
	case "kitcomponent":
		return "This table stores all kit components added to the xCAT cluster."
	case "kitrepo":
		return "This table stores all kits added to the xCAT cluster."
	case "kvm_masterdata":
		return "Persistent store for KVM plugin for masters"
	case "kvm_nodedata":
		return "Persistent store for KVM plugin, not intended for manual modification."
	case "linuximage":
		return "Information about a Linux operating system image that can be used to deploy cluster nodes."
	case "litefile":
		return "The litefile table specifies the directories and files on the statelite nodes that should be readwrite, persistent, or readonly overlay.  All other files in the statelite nodes come from the readonly statelite image."
	case "litetree":
		return "Directory hierarchy to traverse to get the initial contents of node files.  The files that are specified in the litefile table are searched for in the directories specified in this table."
	case "mac":
		return "The MAC address of the node's install adapter.  Normally this table is populated by getmacs or node discovery, but you can also add entries to it manually."
	case "mic":
		return "The host, slot id and configuration of the mic (Many Integrated Core)."
	case "monitoring":
		return "Controls what external monitoring tools xCAT sets up and uses.  Entries should be added and removed from this table using the provided xCAT commands monstart and monstop."
	case "monsetting":
		return "Specifies the monitoring plug-in specific settings. These settings will be used by the monitoring plug-in to customize the behavior such as event filter, sample interval, responses etc. Entries should be added, removed or modified by chtab command. Entries can also be added or modified by the monstart command when a monitoring plug-in is brought up."
	case "mp":
		return "Contains the hardware control info specific to blades.  This table also refers to the mpa table, which contains info about each Management Module."
	case "mpa":
		return "Contains info about each Management Module and how to access it."
	case "networks":
		return "Describes the networks in the cluster and info necessary to set up nodes on that network."
	case "nics":
		return "Stores NIC details."
	case "nimimage":
		return "All the info that specifies a particular AIX operating system image that can be used to deploy AIX nodes."
	case "nodegroup":
		return "Contains group definitions, whose membership is dynamic depending on characteristics of the node."
	case "nodehm":
		return "Settings that control how each node's hardware is managed.  Typically, an additional table that is specific to the hardware type of the node contains additional info.  E.g. the ipmi, mp, and ppc tables."
	case "nodelist":
		return "The list of all the nodes in the cluster, including each node's current status and what groups it is in."
	case "nodepos":
		return "Contains info about the physical location of each node.  Currently, this info is not used by xCAT, and therefore can be in whatevery format you want.  It will likely be used in xCAT in the future."
	case "noderes":
		return "Resources and settings to use when installing nodes."
	case "nodetype":
		return "A few hardware and software characteristics of the nodes."
	case "notification":
		return "Contains registrations to be notified when a table in the xCAT database changes.  Users can add entries to have additional software notified of changes.  Add and remove entries using the provided xCAT commands regnotif and unregnotif."
	case "openbmc":
		return "Setting for nodes that are controlled by an on-board OpenBMC."
	case "osdistro":
		return "Information about all the OS distros in the xCAT cluster"
	case "osdistroupdate":
		return "Information about the OS distro updates in the xCAT cluster"
	case "osimage":
		return "Basic information about an operating system image that can be used to deploy cluster nodes."
	case "passwd":
		return "Contains default userids and passwords for xCAT to access cluster components.  In most cases, xCAT will also actually set the userid/password in the relevant component when it is being configured or installed.  Userids/passwords for specific cluster components can be overidden in other tables, e.g. mpa, ipmi, ppchcp, etc."
	case "pdu":
		return "Parameters to use when interrogating pdus"
	case "pduoutlet":
		return "Contains list of outlet numbers on the pdu each node is connected to."
	case "performance":
		return "Describes the system performance every interval unit of time."
	case "policy":
		return "The policy table in the xCAT database controls who has authority to run specific xCAT operations. It is basically the Access Control List (ACL) for xCAT. It is sorted on the priority field before evaluating."
	case "postscripts":
		return "The scripts that should be run on each node after installation or diskless boot."
	case "ppc":
		return "List of system p hardware: HMCs, IVMs, FSPs, BPCs, CECs, Frames."
	case "ppcdirect":
		return "Info necessary to use FSPs/BPAs to control system p CECs/Frames."
	case "ppchcp":
		return "Info necessary to use HMCs and IVMs as hardware control points for LPARs."
	case "prescripts":
		return "The scripts that will be run at the beginning and the end of the nodeset(Linux), nimnodeset(AIX) or mkdsklsnode(AIX) command."
	case "prodkey":
		return "Specify product keys for products that require them"
	case "rack":
		return "Rack information."
	case "routes":
		return "Describes the additional routes needed to be setup in the os routing table. These routes usually are used to connect the management node to the compute node using the service node as gateway."
	case "servicenode":
		return "List of all Service Nodes and services that will be set up on the Service Node."
	case "site":
		return "Global settings for the whole cluster.  This table is different from the \nother tables in that each attribute is just named in the key column, rather \nthan having a separate column for each attribute. The following is a list of \nattributes currently used by xCAT organized into categories."
	case "statelite":
		return "The location on an NFS server where a nodes persistent files are stored.  Any file marked persistent in the litefile table will be stored in the location specified in this table for that node."
	case "switch":
		return "Contains what switch port numbers each node is connected to."
	case "switches":
		return "Parameters to use when interrogating switches"
	case "taskstate":
		return "The task state for the node."
	case "token":
		return "The token of users for authentication."
	case "virtsd":
		return "The parameters which used to create the Storage Domain"
	case "vm":
		return "Virtualization parameters"
	case "vmmaster":
		return "Inventory of virtualization images for use with clonevm.  Manual intervention in this table is not intended."
	case "vpd":
		return "The Machine type, Model, and Serial numbers of each node."
	case "websrv":
		return "Web service parameters"
	case "winimage":
		return "Information about a Windows operating system image that can be used to deploy cluster nodes."
	case "zone":
		return "Defines a cluster zone for nodes that share root ssh key access to each other."
	case "zvm":
		return "List of z/VM virtual servers."
	case "zvmivp":
		return "List of z/VM Installation Verification Procedures (IVPs) to be periodically run."
	}
	return ""
}
