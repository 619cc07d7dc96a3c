from ticketing.cli import main

raise SystemExit(main())
