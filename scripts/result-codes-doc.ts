import { resultCodesMarkdown } from '../src/dialects/opp/result-codes-doc.ts';

process.stdout.write(resultCodesMarkdown());
