/* netns/tc: per-server bandwidth caps with tbf, through libnl-route-3.
 *
 * Towards the server: a tbf as the root qdisc of the host end of the veth
 * (what the host sends there is what the server receives).
 * From the server: its packets enter the host at the host end's ingress,
 * where a qdisc cannot shape. They are redirected (u32 match-all + mirred)
 * to an ifb device whose root tbf shapes them. The other way, a tbf on eth0
 * inside the server, would be undone by any server root holding
 * CAP_NET_ADMIN in its own namespace (a VPS root does); everything here lives
 * in the host's namespace, out of the server's reach.
 * runs in: the host's network namespace. */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/action.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#define TBF_LATENCY_US 50000
#define INGRESS_HANDLE 0xffff0000U  /* ffff: (TC_HANDLE() would shift an int) */

static int tbf_replace(struct nl_sock *sk, const char *dev, uint64_t bits, struct vs_err *err)
{
	int idx = link_index(sk, dev);
	if (!idx)
		return vs_fail(err, ENODEV, "netns: tc %s", dev);
	uint64_t bytes = bits / 8;
	if (bytes > INT32_MAX || bytes < 1000)
		return vs_failx(err, ERANGE, "netns: tc %s: rate %llu bit/s: out of range "
				"(8 kbit/s .. 17 Gbit/s)", dev, (unsigned long long)bits);
	/* burst: 10 ms of traffic, at least 32 KiB so one full GSO train fits */
	uint64_t burst = bytes / 100 < 32768 ? 32768 : bytes / 100;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return vs_fail(err, ENOMEM, "netns: tc %s", dev);
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(1, 0));
	int r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (r >= 0) {
		rtnl_qdisc_tbf_set_rate(q, (int)bytes, (int)burst, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, TBF_LATENCY_US);
	}
	if (r >= 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: tc %s: tbf rate %llu bit/s", dev,
			       (unsigned long long)bits);
	return 0;
}

static int qdisc_del(struct nl_sock *sk, const char *dev, uint32_t parent, struct vs_err *err)
{
	int idx = link_index(sk, dev);
	if (!idx)
		return 0;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return vs_fail(err, ENOMEM, "netns: tc %s", dev);
	rtnl_tc_set_ifindex(TC_CAST(q), idx);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	int r = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	int e = netns_nlerr(r);
	/* none there: the kernel says ENOENT or EINVAL (root of a noqueue dev) */
	if (r < 0 && e != ENOENT && e != EINVAL)
		return vs_fail(err, e, "netns: tc %s: delete qdisc", dev);
	return 0;
}

static int ifb_add(struct nl_sock *sk, const char *ifb, struct vs_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return vs_fail(err, ENOMEM, "netns: ifb %s: add", ifb);
	rtnl_link_set_name(l, ifb);
	rtnl_link_set_type(l, "ifb");
	rtnl_link_set_flags(l, IFF_UP);
	int r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: ifb %s: add", ifb);
	return 0;
}

/* ingress qdisc on dev + "u32 match u32 0 0 action mirred egress redirect
 * dev ifb"; a qdisc it made is removed again when the filter fails (one
 * that was there already is refused, EEXIST, and left alone) */
int tc_redirect_add(struct nl_sock *sk, const char *dev, const char *ifb,
			struct vs_err *err)
{
	int idx = link_index(sk, dev), ifb_idx = link_index(sk, ifb);
	if (!idx || !ifb_idx)
		return vs_fail(err, ENODEV, "netns: tc %s: redirect to %s", dev, ifb);
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int r = (q && cls && act) ? 0 : -NLE_NOMEM;
	const char *step = "ingress qdisc";
	if (r >= 0) {
		rtnl_tc_set_ifindex(TC_CAST(q), idx);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
		rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
		r = rtnl_tc_set_kind(TC_CAST(q), "ingress");
	}
	if (r >= 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	bool made_qdisc = r >= 0;
	if (r >= 0) {
		step = "redirect filter";
		r = rtnl_tc_set_kind(TC_CAST(act), "mirred");
	}
	if (r >= 0) {
		rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(act, (uint32_t)ifb_idx);
		rtnl_tc_set_ifindex(TC_CAST(cls), idx);
		rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
		r = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	}
	if (r >= 0) {
		rtnl_cls_set_protocol(cls, ETH_P_ALL);
		rtnl_cls_set_prio(cls, 1);
		r = rtnl_u32_set_cls_terminal(cls);
	}
	if (r >= 0)
		r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0);
	if (r >= 0)
		r = rtnl_u32_add_action(cls, act);
	if (r >= 0)
		r = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0 && made_qdisc)
		qdisc_del(sk, dev, TC_H_INGRESS, NULL);
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	if (q)
		rtnl_qdisc_put(q);
	if (r < 0)
		return vs_fail(err, netns_nlerr(r), "netns: tc %s: %s", dev, step);
	return 0;
}

static int egress_cap(struct nl_sock *sk, const char *host_if, const char *ifb,
		      uint64_t rate, struct vs_err *err)
{
	if (link_index(sk, ifb))
		return tbf_replace(sk, ifb, rate, err);
	int r = ifb_add(sk, ifb, err);
	if (r < 0)
		return r;
	r = tbf_replace(sk, ifb, rate, err);
	if (r >= 0)
		r = tc_redirect_add(sk, host_if, ifb, err);
	if (r < 0) {
		qdisc_del(sk, host_if, TC_H_INGRESS, NULL);
		link_del(sk, ifb, NULL);
	}
	return r;
}

int tc_set(struct nl_sock *sk, const char *host_if, const char *ifb,
	   uint64_t rate_in, uint64_t rate_out, struct vs_err *err)
{
	if (!link_index(sk, host_if))
		return vs_fail(err, ENODEV, "netns: tc %s", host_if);
	int r = rate_in ? tbf_replace(sk, host_if, rate_in, err)
			: qdisc_del(sk, host_if, TC_H_ROOT, err);
	if (r < 0)
		return r;
	if (rate_out)
		return egress_cap(sk, host_if, ifb, rate_out, err);
	r = qdisc_del(sk, host_if, TC_H_INGRESS, err);
	return r < 0 ? r : link_del(sk, ifb, err);
}

int tc_clear(struct nl_sock *sk, const char *host_if, const char *ifb, struct vs_err *err)
{
	int r = link_del(sk, ifb, err);
	int r2 = qdisc_del(sk, host_if, TC_H_INGRESS, r < 0 ? NULL : err);
	int r3 = qdisc_del(sk, host_if, TC_H_ROOT, (r < 0 || r2 < 0) ? NULL : err);
	return r < 0 ? r : r2 < 0 ? r2 : r3;
}

void tc_ingress_del(struct nl_sock *sk, const char *dev)
{
	qdisc_del(sk, dev, TC_H_INGRESS, NULL);
}
