import { addE2eTests } from './_suite.ts';

// Profile integrated: Django embedded in the Reflex-shaped backend (one uvicorn process), as reflex-django runs it.
addE2eTests('integrated');
