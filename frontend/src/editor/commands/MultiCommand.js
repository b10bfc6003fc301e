// Several commands as one undo step (e.g. moving a multi-selection).
import { Command, runAll } from './Command.js';

export class MultiCommand extends Command {
  constructor(editor, commands, name = 'Edit') {
    super(editor, name);
    this.commands = commands;
  }

  preview() {
    for (const c of this.commands) c.preview();
  }

  execute() {
    return runAll(this.commands.map((c) => c.execute()));
  }

  undo() {
    return runAll(this.commands.map((c) => c.undo()));
  }

  toJSON() {
    return { ...super.toJSON(), commands: this.commands.map((c) => c.toJSON()) };
  }
}
