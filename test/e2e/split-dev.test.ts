import { addE2eTests } from './_suite.ts';

// Profile split_dev: Django under `manage.py runserver` on its own port, the backend without Django's routes.
addE2eTests('split_dev');
