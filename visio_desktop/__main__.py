from visio_desktop.cli import main

raise SystemExit(main())
