/* Shell commands about guest memory: mem, vmem, gva, slat.  Page walks run
 * on the VP's own CPU while it is paused (its control registers live in the
 * VMCS/VMCB there); guest RAM is read through the identity map, and only guest
 * RAM: MMIO could have side effects and the hypervisor's memory is private. */
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/shell/cmds.h"
#include "kernel/vm/gpa_view.h"
#include "kernel/vm/guest_mem.h"

static bool dump_len(struct shell *sh, int argc, char **argv, int index, u64 *len)
{
	*len = SHELL_DUMP_DEFAULT;
	return argc <= index || shell_arg_u64(sh, "len", argv[index], 1, SHELL_DUMP_MAX, len);
}

int cmd_mem(struct shell *sh, int argc, char **argv)
{
	static u8 buf[SHELL_DUMP_MAX];
	u64 gpa, len;

	if (!shell_arg_u64(sh, "gpa", argv[1], 0, ~0ULL, &gpa) || !dump_len(sh, argc, argv, 2, &len))
		return SHELL_EUSAGE;
	if (!shell_gpa_readable(sh, gpa, len))
		return SHELL_EFAIL;
	if (!guest_read_gpa(&the_vm, gpa, buf, len))
		return shell_fail(sh, "gpa %#llx could not be read", (unsigned long long)gpa);
	shell_hexdump(sh, gpa, buf, len);
	return SHELL_OK;
}

/* ---- vmem ------------------------------------------------------------------ */

struct vmem_req {
	u64 gva, len;
	u64 got;		/* bytes copied */
	u64 stop_gva;		/* where it stopped, when got < len */
	u64 stop_gpa;
	bool not_ram;		/* stopped at a GPA that is not guest RAM */
	struct guest_walk_result res;
	u8 data[SHELL_DUMP_MAX];
};

static void vmem_read(struct vp *vp, void *arg)
{
	struct vmem_req *r = arg;

	r->got = 0;
	r->not_ram = false;
	while (r->got < r->len) {
		u64 gva = r->gva + r->got;
		guest_translate(vp, gva, GW_ACCESS_READ, &r->res);
		/* A debugger reads what a translation exists for, whatever the
		 * privilege (a user-mode #PF on a kernel page still translates). */
		if (!r->res.translated) {
			r->stop_gva = gva;
			return;
		}
		u64 in_page = r->res.page_size - (r->res.gpa & (r->res.page_size - 1));
		u64 chunk = MIN(r->len - r->got, in_page);
		if (guest_mem_is_hv(r->res.gpa) ||
		    !guest_read_gpa(&the_vm, r->res.gpa, r->data + r->got, chunk)) {
			r->stop_gva = gva;
			r->stop_gpa = r->res.gpa;
			r->not_ram = true;
			return;
		}
		r->got += chunk;
	}
}

int cmd_vmem(struct shell *sh, int argc, char **argv)
{
	static struct vmem_req req;
	struct vp *vp = shell_arg_vp(sh, "vp", argv[1]);
	u64 gva, len;

	if (!vp || !shell_arg_u64(sh, "gva", argv[2], 0, ~0ULL, &gva) ||
	    !dump_len(sh, argc, argv, 3, &len))
		return SHELL_EUSAGE;
	req.gva = gva;
	req.len = len;
	if (shell_vp_call(sh, vp, vmem_read, &req) != SHELL_OK)
		return SHELL_EFAIL;
	shell_hexdump(sh, gva, req.data, req.got);
	if (req.got == len)
		return SHELL_OK;
	if (req.not_ram)
		return shell_fail(sh, "gva %#llx maps to gpa %#llx, which is not guest RAM; stopped there",
				  (unsigned long long)req.stop_gva, (unsigned long long)req.stop_gpa);
	shell_fail(sh, "gva %#llx does not translate (%s); stopped there",
		   (unsigned long long)req.stop_gva, guest_walk_status_name(req.res.status));
	guest_walk_print(&req.res, shell_emit_line, sh);
	return SHELL_EFAIL;
}

/* ---- gva and slat ------------------------------------------------------------- */

struct walk_req {
	u64 gva;	/* gva: the address to translate */
	u64 gpa;	/* slat: the GPA, or gva's translation */
	bool translated;
	struct guest_walk_result res;
	int slat_rc;
	struct gpa_walk slat;
	const char *format;
	u8 vtl;
};

static void slat_walk(struct vp *vp, struct walk_req *r)
{
	struct gpa_view *view = vp_bank(vp)->view;

	r->vtl = vp->active_vtl;
	r->format = view->fmt->name;
	r->slat_rc = gpa_view_walk(view, r->gpa, &r->slat);
}

static void gva_walk(struct vp *vp, void *arg)
{
	struct walk_req *r = arg;

	guest_translate(vp, r->gva, GW_ACCESS_READ, &r->res);
	r->translated = r->res.translated;
	r->gpa = r->res.gpa;
	if (r->translated)
		slat_walk(vp, r);
}

static void gpa_walk(struct vp *vp, void *arg)
{
	slat_walk(vp, arg);
}

static const char *const entry_kinds[] = {
	[GPA_ENTRY_EMPTY] = "empty", [GPA_ENTRY_TABLE] = "table", [GPA_ENTRY_LEAF] = "leaf",
};

static void print_slat(struct shell *sh, const struct walk_req *r)
{
	static const char *const level_names[] = {"?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
	char perms[8];

	shell_print(sh, "slat %s (VTL%u view) for gpa 0x%016llx:", r->format, r->vtl,
		    (unsigned long long)r->gpa);
	for (int i = 0; i < r->slat.depth && i < GPA_VIEW_MAX_LEVELS; i++) {
		const struct gpa_walk_step *s = &r->slat.step[i];
		shell_print(sh, "  %-5s [%3u] @ 0x%016llx = 0x%016llx %s",
			    level_names[s->level >= 1 && s->level <= 5 ? s->level : 0], s->index,
			    (unsigned long long)(s->table_pa + s->index * 8ULL),
			    (unsigned long long)s->entry, entry_kinds[s->kind % 3]);
	}
	if (r->slat_rc == 0) {
		static const char *const sizes[] = {"?", "4 KiB", "2 MiB", "1 GiB"};
		gpa_perms_str(r->slat.map.perms, perms);
		shell_print(sh, "  -> hpa 0x%016llx, %s page, %s, %s%s",
			    (unsigned long long)r->slat.map.hpa,
			    sizes[r->slat.map.level >= 1 && r->slat.map.level <= 3 ? r->slat.map.level : 0],
			    perms, gpa_memtype_name(r->slat.map.memtype),
			    r->slat.map.perms ? "" : " (mapped with no access)");
	} else if (r->slat_rc == -GPA_ENOENT) {
		shell_print(sh, "  -> not mapped: a guest access here is a SLAT violation");
	} else {
		shell_print(sh, "  -> beyond what the view can map (error %d)", r->slat_rc);
	}
}

int cmd_gva(struct shell *sh, int argc, char **argv)
{
	static struct walk_req req;
	struct vp *vp = shell_arg_vp(sh, "vp", argv[1]);
	u64 gva;
	(void)argc;

	if (!vp || !shell_arg_u64(sh, "gva", argv[2], 0, ~0ULL, &gva))
		return SHELL_EUSAGE;
	memset(&req, 0, sizeof(req));
	req.gva = gva;
	if (shell_vp_call(sh, vp, gva_walk, &req) != SHELL_OK)
		return SHELL_EFAIL;
	guest_walk_print(&req.res, shell_emit_line, sh);
	if (!req.translated)
		return SHELL_OK;
	print_slat(sh, &req);
	return SHELL_OK;
}

int cmd_slat(struct shell *sh, int argc, char **argv)
{
	static struct walk_req req;
	struct vp *vp = NULL;
	u64 gpa;

	if (!shell_arg_u64(sh, "gpa", argv[1], 0, ~0ULL, &gpa))
		return SHELL_EUSAGE;
	if (argc > 2)
		vp = shell_arg_vp(sh, "vp", argv[2]);
	else if (the_vm.vp_count)
		vp = the_vm.vps[0];
	else
		shell_fail(sh, "there are no VPs (no virtualisation backend)");
	if (!vp)
		return SHELL_EUSAGE;
	memset(&req, 0, sizeof(req));
	req.gpa = gpa;
	if (shell_vp_call(sh, vp, gpa_walk, &req) != SHELL_OK)
		return SHELL_EFAIL;
	print_slat(sh, &req);
	return SHELL_OK;
}
