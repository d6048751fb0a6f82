import sys

from inputs.service.server import main

sys.exit(main())
