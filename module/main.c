// SPDX-License-Identifier: GPL-2.0
/*
 * imee: introspection of KVM guests from the host.
 *
 * The /dev/imee misc device (mode 0600, CAP_SYS_ADMIN to open), its one
 * ioctl (IMEE_ATTACH, in session.c), and module init and exit.
 *
 * imee.ko uses symbols of kvm.ko (file_is_kvm() and the VM references), so
 * kvm.ko stays loaded while imee.ko is. Every open /dev/imee file, session
 * file and view mapping holds a reference on imee.ko, so "rmmod imee" fails
 * with EBUSY (EWOULDBLOCK with O_NONBLOCK) until they are all gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "imee.h"

/**
 * imee_copy_args() - copy an ioctl argument that starts with its own size
 * @dst:	kernel copy, @ksize bytes
 * @ksize:	sizeof() the struct this module knows
 * @minsize:	the size of the struct's first version
 * @uarg:	user pointer; its first __u32 is the caller's sizeof()
 *
 * A caller built against an older header passes a smaller struct (at least
 * @minsize); the missing fields read as zero. A newer one passes a larger
 * struct; the fields this module does not know must then be zero.
 *
 * Return: 0, -EFAULT, -EINVAL (size below @minsize), or -E2BIG (unknown
 * trailing bytes not zero, or size above PAGE_SIZE).
 */
int imee_copy_args(void *dst, size_t ksize, size_t minsize,
		   const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < minsize)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

static int imee_dev_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

static long imee_dev_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	const void __user *uarg = (const void __user *)arg;

	switch (IMEE_IOC_BASE(cmd)) {
	case IMEE_IOC_BASE(IMEE_ATTACH):
		return imee_attach(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations imee_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= imee_dev_open,
	.unlocked_ioctl	= imee_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

static struct miscdevice imee_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= IMEE_DEVICE_NAME,
	.fops	= &imee_dev_fops,
	.mode	= 0600,
};

static int __init imee_init(void)
{
	int ret;

	ret = misc_register(&imee_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", IMEE_DEVICE_NAME, ret);
		return ret;
	}
	pr_info("version %s (API %d) loaded\n", IMEE_MODULE_VERSION,
		IMEE_API_VERSION);
	return 0;
}

static void __exit imee_exit(void)
{
	misc_deregister(&imee_misc);
	pr_info("unloaded\n");
}

module_init(imee_init);
module_exit(imee_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("imee: introspection of KVM guests from the host");
MODULE_VERSION(IMEE_MODULE_VERSION);
