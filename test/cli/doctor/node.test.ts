import { addDoctorTests } from './_suite.ts';

addDoctorTests('node');
