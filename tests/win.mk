# tests for the Windows backends (issue 9; fragment): the mingw cross
# build, the engine stand-ins and the Windows test program under Wine.
win_tests = tests/win_backends.sh tests/win_fs.sh tests/win_service.sh
TESTS += $(win_tests)
EXTRA_DIST += $(win_tests) tests/win_lib.sh tests/wine_hold.sh tests/win/standin.h tests/win/standin.c \
	tests/win/esent_standin.c tests/win/ntdsbcli_standin.c tests/win/certadm_standin.c \
	tests/win/win_backup.c tests/win/jet_api_check.c tests/win/winfsp_standin.c src/bkclient/win/local.mk \
	src/fs/win/local.mk src/fs/win/winx.h src/fs/win/winfsp.h src/fs/win/winfsp_mount.h \
	src/fs/win/plat_win.c src/fs/win/log_win.c src/fs/win/conf_win.c src/fs/win/source_win.c \
	src/fs/win/fuse_win.c src/fs/win/control_win.c src/fs/win/service_win.c \
	src/fs/win/esebackupfs_msg.mc src/fs/win/main_win.c
# win_fs.sh and win_service.sh reuse the cross build of win_backends.sh:
# never two of them make in it
tests/win_fs.log: tests/win_backends.log
tests/win_service.log: tests/win_fs.log
# the cross build tests/win_backends.sh makes in the build tree
clean-local: clean-win-cross
clean-win-cross:
	rm -rf win-cross
