/*
 * musl-unwind-shim.c: what Debian's libgcc_eh.a lacks to serve as libunwind.a for
 * static x86_64-unknown-linux-musl binaries. build-musl-std.sh compiles it with
 * musl-gcc and adds it to that archive.
 *
 * rustc links every musl binary with -lunwind. Debian ships no LLVM libunwind built
 * for musl, but gcc's libgcc_eh.a has the same _Unwind_* entry points. Two things in it
 * are glibc-shaped:
 *
 * 1. gcc 12's unwinder, built on glibc 2.36, finds a PC's unwind tables with glibc's
 *    _dl_find_object(). musl has no such function, so the link fails. Below is one
 *    made of dl_iterate_phdr(), which musl has, also in static binaries.
 *
 * 2. libgcc_eh only holds *weak* references to pthread_once, pthread_key_create, ...
 *    It calls them only when they are linked in (its "is the program threaded?" test).
 *    In a static link nothing else may pull them out of libc.a, they stay NULL, and the
 *    first panic dies in _Unwind_RaiseException. The table of strong references below
 *    pulls them in whenever this object is linked, i.e. whenever the unwinder is.
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

void *const rust_s2i_unwind_pthread_refs[] __attribute__((used)) = {
	(void *)pthread_once,        (void *)pthread_key_create,
	(void *)pthread_getspecific, (void *)pthread_setspecific,
	(void *)pthread_mutex_lock,  (void *)pthread_mutex_unlock,
};

/* The layout libgcc was compiled against: glibc 2.36's <dlfcn.h> on x86_64. */
struct dl_find_object {
	unsigned long long dlfo_flags;
	void *dlfo_map_start;
	void *dlfo_map_end;
	void *dlfo_link_map;
	void *dlfo_eh_frame;
	unsigned long long dlfo_reserved[7];
};

struct lookup {
	uintptr_t pc;
	struct dl_find_object *found;
};

/* For the loaded object whose PT_LOAD segments hold pc: its address range and its
 * PT_GNU_EH_FRAME (.eh_frame_hdr), which is all libgcc reads from the result. */
static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup *l = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	void *eh_frame = NULL;
	int holds_pc = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD) {
			uintptr_t end = start + ph->p_memsz;
			if (l->pc >= start && l->pc < end)
				holds_pc = 1;
			if (start < lo)
				lo = start;
			if (end > hi)
				hi = end;
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			eh_frame = (void *)start;
		}
	}
	if (!holds_pc)
		return 0; /* next object */
	memset(l->found, 0, sizeof *l->found);
	l->found->dlfo_map_start = (void *)lo;
	l->found->dlfo_map_end = (void *)hi;
	l->found->dlfo_eh_frame = eh_frame;
	return 1; /* stop */
}

int _dl_find_object(void *pc, struct dl_find_object *result)
{
	struct lookup l = { (uintptr_t)pc, result };

	return dl_iterate_phdr(visit, &l) ? 0 : -1;
}
