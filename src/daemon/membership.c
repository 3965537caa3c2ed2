// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Is a process one of a service's? The question an sd_notify sender and a
 * MAINPID= raise: by the main process, the cgroups, the BPF-followed tree
 * and, for a process gone moments ago, the reaper's memory of it.
 */
#include "daemon/procs.h"
#include "daemon/unit.h"
#include "os/cgroup.h"
#include "os/tracer.h"

bool unit_tree_holds(struct unit *u, pid_t pid)
{
	uint32_t kid;

	for (size_t i = 0; i < u->procs.n; i++) {
		const struct unit_proc *p = &u->procs.v[i];
		if (pid == p->child.pid && p->main_alive)
			return true;
		if (p->cg.dirfd >= 0 && cgroup_holds(&p->cg, pid))
			return true;
	}
	return u->d->tracer && tracer_kid_of(u->d->tracer, pid, &kid) == 0 &&
	       RD_KID_UNIT(kid) == u->id;
}

bool unit_tree_contains(struct unit *u, pid_t pid)
{
	return unit_tree_holds(u, pid) || reaper_exited_lately(u->d, pid, u->id);
}

bool unit_has_cgroups(const struct unit *u)
{
	for (size_t i = 0; i < u->procs.n; i++)
		if (u->procs.v[i].cg.dirfd >= 0)
			return true;
	return false;
}

bool unit_cgroup_has_id(const struct unit *u, uint64_t id)
{
	for (size_t i = 0; i < u->procs.n; i++)
		if (cgroup_has_id(&u->procs.v[i].cg, id))
			return true;
	return false;
}
