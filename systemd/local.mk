# systemd units and the backup wrapper they run (issue 11), installed only
# with ./configure --with-systemdsystemunitdir=DIR (the Debian package gives
# /lib/systemd/system).  The .in files get the configured paths.
systemd_units = systemd/esebackupfs@.service systemd/esebackupfs@.timer \
	systemd/jetutil-serve@.service
# the units and the wrapper, generated with this build's paths, on real mounts
TESTS += tests/systemd_units.sh
EXTRA_DIST += tests/systemd_units.sh systemd/esebackupfs@.service.in systemd/esebackupfs@.timer.in \
	systemd/jetutil-serve@.service.in systemd/esebackupfs-backup.in systemd/example.env
CLEANFILES += $(systemd_units) systemd/esebackupfs-backup
if HAVE_SYSTEMD
systemdsystemunit_DATA = $(systemd_units)
pkglibexec_SCRIPTS = systemd/esebackupfs-backup
endif

systemd_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g'
systemd_gen = $(AM_V_GEN)$(MKDIR_P) systemd && $(systemd_edit) $< >$@.tmp && mv $@.tmp $@

systemd/esebackupfs@.service: $(srcdir)/systemd/esebackupfs@.service.in Makefile
	$(systemd_gen)
systemd/esebackupfs@.timer: $(srcdir)/systemd/esebackupfs@.timer.in Makefile
	$(systemd_gen)
systemd/jetutil-serve@.service: $(srcdir)/systemd/jetutil-serve@.service.in Makefile
	$(systemd_gen)
systemd/esebackupfs-backup: $(srcdir)/systemd/esebackupfs-backup.in Makefile
	$(systemd_gen) && chmod +x $@
