/* The Linux x86 boot protocol as pure logic (Documentation/arch/x86/boot.rst,
 * "THE LINUX/x86 BOOT PROTOCOL" and "32-bit BOOT PROTOCOL"): reading and
 * checking a bzImage's setup header, choosing where the kernel, the initrd and
 * the boot block go in guest RAM, and filling in boot_params (the "zero page").
 *
 * Nothing here touches hardware or guest memory: the image is a byte block,
 * guest RAM is the guest's memory map, and boot_params is a buffer the caller
 * supplies.  kernel/vm/loader_linux.c does the copying and the registers.
 *
 * The bzImage is guest input: every length and offset read from it is checked
 * before use, and a bad image is refused with one printk line that says why. */
#ifndef HV_KERNEL_VM_LINUX_BOOT_H
#define HV_KERNEL_VM_LINUX_BOOT_H

#include "kernel/types.h"
#include "kernel/vm/vm.h"

/* ---- Layouts (boot.rst, "THE REAL-MODE KERNEL HEADER" and zero-page.rst) ---- */

#define LINUX_SETUP_HEADER_OFFSET 0x1F1
#define LINUX_BOOT_FLAG 0xAA55
#define LINUX_HEADER_MAGIC 0x53726448u /* "HdrS" */
/* The setup header ends at 0x202 plus the byte at 0x201 (the short jump's
 * displacement); boot_params has room for it up to 0x290. */
#define LINUX_HEADER_JUMP_OFFSET 0x201
#define LINUX_HEADER_LIMIT 0x290
/* "If [setup_sects] is 0, the real value is 4." */
#define LINUX_SETUP_SECTS_DEFAULT 4
#define LINUX_SECTOR_SIZE 512

/* Protocol 2.12 (Linux 3.8) is the first with every field this loader reads:
 * xloadflags (2.12), pref_address and init_size (2.10), cmdline_size (2.06),
 * relocatable_kernel and kernel_alignment (2.05), initrd_addr_max (2.03). */
#define LINUX_PROTOCOL_MIN 0x020C

/* loadflags */
#define LINUX_LOADED_HIGH (1u << 0)
#define LINUX_KASLR_FLAG (1u << 1)
#define LINUX_QUIET_FLAG (1u << 5)
#define LINUX_KEEP_SEGMENTS (1u << 6)
#define LINUX_CAN_USE_HEAP (1u << 7)

/* xloadflags */
#define LINUX_XLF_KERNEL_64 (1u << 0)
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* type_of_loader: 0xFF is "undefined" for a loader without an assigned id. */
#define LINUX_LOADER_TYPE_UNDEFINED 0xFF

/* The 32-bit entry's segment selectors (__BOOT_CS, __BOOT_DS). */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

/* boot_params holds at most this many e820 entries (the rest would need a
 * SETUP_E820_EXT setup_data node). */
#define LINUX_E820_MAX_ENTRIES 128

/* e820 types the kernel understands (arch/x86/include/uapi/asm/e820.h). */
#define LINUX_E820_RAM 1
#define LINUX_E820_RESERVED 2
#define LINUX_E820_ACPI 3
#define LINUX_E820_NVS 4
#define LINUX_E820_UNUSABLE 5

struct linux_setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;
	u16 jump;
	u32 header;
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} __packed;

#define LINUX_HDR_AT(field, off) \
	STATIC_ASSERT(offsetof(struct linux_setup_header, field) + LINUX_SETUP_HEADER_OFFSET == (off), \
		      "setup header " #field)
LINUX_HDR_AT(boot_flag, 0x1FE);
LINUX_HDR_AT(header, 0x202);
LINUX_HDR_AT(version, 0x206);
LINUX_HDR_AT(type_of_loader, 0x210);
LINUX_HDR_AT(loadflags, 0x211);
LINUX_HDR_AT(code32_start, 0x214);
LINUX_HDR_AT(ramdisk_image, 0x218);
LINUX_HDR_AT(cmd_line_ptr, 0x228);
LINUX_HDR_AT(initrd_addr_max, 0x22C);
LINUX_HDR_AT(kernel_alignment, 0x230);
LINUX_HDR_AT(relocatable_kernel, 0x234);
LINUX_HDR_AT(xloadflags, 0x236);
LINUX_HDR_AT(cmdline_size, 0x238);
LINUX_HDR_AT(pref_address, 0x258);
LINUX_HDR_AT(init_size, 0x260);
LINUX_HDR_AT(kernel_info_offset, 0x268);
#undef LINUX_HDR_AT

struct linux_e820_entry {
	u64 addr;
	u64 size;
	u32 type;
} __packed;
STATIC_ASSERT(sizeof(struct linux_e820_entry) == 20, "e820 entry");

/* struct boot_params, with only the fields a loader fills named. */
struct linux_boot_params {
	u8 screen_info[0x40];
	u8 apm_bios_info[0x14];
	u8 pad2[4];
	u64 tboot_addr;
	u8 ist_info[0x10];
	u64 acpi_rsdp_addr;
	u8 pad3[8];
	u8 hd0_info[16];
	u8 hd1_info[16];
	u8 sys_desc_table[16];
	u8 olpc_ofw_header[16];
	u32 ext_ramdisk_image;
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;
	u8 pad4[0x74];
	u8 edid_info[0x80];
	u8 efi_info[0x20];
	u32 alt_mem_k;
	u32 scratch;
	u8 e820_entries;
	u8 eddbuf_entries;
	u8 edd_mbr_sig_buf_entries;
	u8 kbd_status;
	u8 secure_boot;
	u8 pad5[2];
	u8 sentinel;
	u8 pad6[1];
	struct linux_setup_header hdr;
	u8 pad7[LINUX_HEADER_LIMIT - LINUX_SETUP_HEADER_OFFSET - sizeof(struct linux_setup_header)];
	u32 edd_mbr_sig_buffer[16];
	struct linux_e820_entry e820_table[LINUX_E820_MAX_ENTRIES];
	u8 pad8[48];
	u8 eddbuf[0x1EC];
	u8 pad9[276];
} __packed;
STATIC_ASSERT(sizeof(struct linux_boot_params) == 4096, "boot_params is one page");
STATIC_ASSERT(offsetof(struct linux_boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
STATIC_ASSERT(offsetof(struct linux_boot_params, ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
STATIC_ASSERT(offsetof(struct linux_boot_params, ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
STATIC_ASSERT(offsetof(struct linux_boot_params, scratch) == 0x1E4, "scratch");
STATIC_ASSERT(offsetof(struct linux_boot_params, e820_entries) == 0x1E8, "e820_entries");
STATIC_ASSERT(offsetof(struct linux_boot_params, sentinel) == 0x1EF, "sentinel");
STATIC_ASSERT(offsetof(struct linux_boot_params, hdr) == LINUX_SETUP_HEADER_OFFSET, "hdr");
STATIC_ASSERT(offsetof(struct linux_boot_params, e820_table) == 0x2D0, "e820_table");
STATIC_ASSERT(offsetof(struct linux_boot_params, eddbuf) == 0xD00, "eddbuf");

/* ---- The image ------------------------------------------------------------ */

/* What the loader needs from a bzImage that passed every check. */
struct linux_image {
	u16 protocol;		/* e.g. 0x020F for 2.15 */
	u32 header_end;		/* file offset just past the setup header */
	u64 kernel_offset;	/* the protected-mode kernel: file bytes [offset, offset+size) */
	u64 kernel_size;
	u64 alignment;		/* kernel_alignment: a power of two */
	u64 init_size;		/* bytes the kernel needs from its load address on */
	u64 pref_address;	/* aligned; the lowest address the kernel will run at */
	u64 initrd_limit;	/* the initrd must end at or below this (initrd_addr_max + 1) */
	u32 cmdline_max;	/* longest command line, without the NUL */
	u16 xloadflags;
	u8 loadflags;
};

/* Checks the setup header of a size-byte bzImage; fills *out and returns true
 * when it can be booted through the 32-bit protocol, else prints why and
 * returns false. */
bool linux_image_parse(const u8 *file, u64 size, struct linux_image *out);

/* True when a command line of len bytes (no NUL) fits the kernel's
 * cmdline_size; prints why not otherwise. */
bool linux_cmdline_fits(const struct linux_image *img, u64 len);

/* ---- Placement ------------------------------------------------------------ */

/* A half-open range of guest-physical addresses, [base, end). */
struct linux_range {
	u64 base, end;
};

struct linux_place_request {
	u64 size;
	u64 align;		/* a power of two */
	u64 lowest, limit;	/* the whole range must lie in [lowest, limit) */
	u64 preferred;		/* tried first when nonzero */
	bool highest_first;	/* else the lowest address that fits wins */
};

/* Finds an address for req->size bytes that lie entirely in usable guest RAM
 * (MEM_USABLE only: ACPI tables and NVS are never overwritten) and overlap
 * none of the avoid ranges.  False when nothing fits. */
bool linux_find_place(const struct guest_mem_region *mem, u32 mem_count,
		      const struct linux_range *avoid, u32 avoid_count,
		      const struct linux_place_request *req, u64 *out);

/* The boot block: boot_params, then one page holding the 32-bit entry's GDT,
 * a spare copy of the RSDP and the command line.  Offsets in the block: */
#define LINUX_BLOCK_BOOT_PARAMS 0x0000
#define LINUX_BLOCK_GDT 0x1000
#define LINUX_BLOCK_GDT_SIZE 32 /* null, null, __BOOT_CS, __BOOT_DS */
#define LINUX_BLOCK_RSDP 0x1040
#define LINUX_BLOCK_CMDLINE 0x1080
/* Bytes of boot block for a command line of cmdline_len bytes (no NUL). */
u64 linux_boot_block_size(u64 cmdline_len);

struct linux_layout_input {
	const struct guest_mem_region *mem;
	u32 mem_count;
	const struct linux_range *modules; /* where the boot loader left every module */
	u32 module_count;
	const struct linux_image *img;
	u64 initrd_base, initrd_size;	   /* the initrd module as it lies; size 0: none */
	u64 boot_block_size;
};

struct linux_layout {
	u64 kernel;	/* load address of the protected-mode kernel */
	u64 initrd;	/* where the initrd must be in guest RAM (0 when there is none) */
	bool initrd_moves; /* it must be copied there from initrd_base */
	u64 boot_block;
};

/* Chooses the layout, or prints what did not fit and returns false:
 *  - the initrd stays where it is when that is usable RAM ending within the
 *    kernel's initrd limit; otherwise it goes as high as possible below the
 *    limit (and 4 GiB), clear of the modules;
 *  - the kernel gets [kernel, kernel + init_size) at pref_address when that is
 *    free, else at the lowest aligned address above it, below 4 GiB (the
 *    32-bit entry runs with paging off), clear of the modules and the initrd;
 *  - the boot block goes in conventional memory (0x10000-0xA0000), which
 *    Linux keeps for itself, else below 4 GiB, clear of all the above. */
bool linux_plan_layout(const struct linux_layout_input *in, struct linux_layout *out);

/* ---- boot_params ---------------------------------------------------------- */

/* Writes the e820 table for the guest's memory map: types mapped to e820
 * types (unknown ones as reserved), adjacent entries of one type merged.
 * At most max entries; when the map needs more the lowest are kept and a
 * warning printed.  Returns the count. */
u32 linux_build_e820(const struct guest_mem_region *mem, u32 mem_count,
		     struct linux_e820_entry *out, u32 max);

struct linux_boot_values {
	u64 kernel;		/* load address */
	u64 cmdline;		/* GPA of the NUL-terminated command line */
	u64 initrd, initrd_size; /* size 0: no initrd */
	u64 rsdp;		/* GPA of the ACPI RSDP, 0 when unknown */
};

/* Fills *bp from scratch: zeroed, the image's setup header copied in, then
 * what a loader must set (type_of_loader, code32_start, the command line, the
 * ramdisk, the e820 table, acpi_rsdp_addr).  file/img as from
 * linux_image_parse. */
void linux_build_boot_params(struct linux_boot_params *bp, const u8 *file,
			     const struct linux_image *img, const struct linux_boot_values *v,
			     const struct guest_mem_region *mem, u32 mem_count);

#endif
